import type { SourceRecord, TaskMetrics } from '../../../runtime/api/index.js';
import { restoreMetrics } from '../metrics.js';
import type { PartitionCursor } from '../partition-cursor.js';
import type { PartitionProgress } from '../progress.js';
import type { StoredPosition } from '../source-offsets.js';

/** A followed partition's figures in the task status: how far the standby trails the backup (its recovery point). */
export type FollowedPartitionProgress = PartitionProgress & {
  /** The original offset of the newest record Kafka acknowledged on the standby; null before the first. */
  restored_offset: number | null;
  /** The end offset of the newest bundle listed in the backup; null before one is listed. */
  backed_up_end: number | null;
  /** Offsets backed up but not yet restored (backed_up_end - restored_offset). */
  lag_offsets: number;
  /** Timestamp (ms) of the newest record restored, and its age now: the recovery point if the primary failed now. */
  newest_timestamp: number | null;
  newest_age_ms: number | null;
  /** Offsets a listed bundle waits behind (the backup uploads in parallel), and since when. */
  waiting_for_gap?: { from: number; to: number; since: string };
};

/** One followed partition: its cursor over the backup, when it lists next, and its figures. */
export class FollowedPartition {
  /** Shared by every record of the partition (the delivery hook tells runs apart by identity). */
  readonly sourcePartition: { topic: string; partition: number };
  /** When a caught-up partition lists the backup again. */
  idleUntil = 0;
  objects = 0;
  records: number;
  handedOutOffset: number | null;
  restoredOffset: number | null;
  newestTimestamp: number | null;

  constructor(
    readonly cursor: PartitionCursor,
    public targetTopic: string,
    stored: StoredPosition,
  ) {
    this.sourcePartition = cursor.sourcePartition;
    this.records = stored.records;
    this.handedOutOffset = stored.lastOffset;
    this.restoredOffset = stored.lastOffset;
    this.newestTimestamp = stored.timestamp;
  }

  get key(): string {
    return `${this.sourcePartition.topic}/${this.sourcePartition.partition}`;
  }

  /** Counts records handed out; returns the partition's count before them (their source offsets number on from it). */
  handedOut(count: number, lastOffset: bigint): number {
    const before = this.records;
    this.records += count;
    this.handedOutOffset = Number(lastOffset);
    return before;
  }

  /** Notes a record Kafka acknowledged. */
  restored(record: SourceRecord): void {
    this.restoredOffset = Number(record.sourceOffset['offset']);
    if (record.timestamp !== undefined && (this.newestTimestamp === null || record.timestamp > this.newestTimestamp)) this.newestTimestamp = record.timestamp;
  }

  progress(now: number): FollowedPartitionProgress {
    const listed = this.cursor.follow.newestListedEnd;
    const backedUpEnd = listed === undefined ? null : Number(listed);
    const gap = this.cursor.follow.waitingForGap;
    return {
      target: this.targetTopic,
      records: this.records,
      objects: this.objects,
      last_offset: this.handedOutOffset,
      done: false,
      restored_offset: this.restoredOffset,
      backed_up_end: backedUpEnd,
      lag_offsets: backedUpEnd === null ? 0 : Math.max(0, backedUpEnd - (this.restoredOffset ?? -1)),
      newest_timestamp: this.newestTimestamp,
      newest_age_ms: this.newestTimestamp === null ? null : Math.max(0, now - this.newestTimestamp),
      ...(gap ? { waiting_for_gap: { from: Number(gap.from), to: Number(gap.to), since: new Date(gap.since).toISOString() } } : {}),
    };
  }

  /** Sets the partition's recovery-point gauges (while the task runs: stale after it stops, hence the timestamp). */
  report(metrics: TaskMetrics, now: number): void {
    const figures = this.progress(now);
    const attributes = { topic: this.sourcePartition.topic, partition: this.sourcePartition.partition };
    metrics.set(restoreMetrics.followLag, figures.lag_offsets, attributes);
    // A timestamp, not an age: time() minus it keeps growing when the follower stops, so an alert on it fires.
    if (this.newestTimestamp !== null) metrics.set(restoreMetrics.followNewestTimestamp, this.newestTimestamp / 1000, attributes);
  }
}
