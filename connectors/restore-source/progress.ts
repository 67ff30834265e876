import { tpKey, type TopicPartition } from '../../runtime/api/index.js';
import type { BadObjectReport } from './bad-object.js';
import type { StoredPosition } from './source-offsets.js';

export type { DispatcherTaskProgress } from './dispatcher/progress.js';

/** Records, then consumer-group offsets; `done` once both are. `following`: restore.mode=follow, which never ends by itself. */
export type RestorePhase = 'records' | 'offsets' | 'done' | 'following';

/** One source partition's figures in a RestoreSource task's progress. */
export type PartitionProgress = {
  /** The target topic. */
  target: string;
  /** Restored by the whole job, across runs. */
  records: number;
  /** Read by this run. */
  objects: number;
  /** The original offset of the last record handed out; null before the first. */
  last_offset: number | null;
  done: boolean;
};

/**
 * A RestoreSource task's `progress` (target=kafka), in its status and as its FINISHED
 * summary; the CLI's progress bar and the `/ui` page read it. Records count the whole
 * job across runs; objects and bytes what this run read.
 */
export type RestoreTaskProgress = {
  phase: RestorePhase;
  records: number;
  objects: number;
  bytes: number;
  /** What this run had left to read when it started, once listed (for a bar and an ETA). */
  planned?: { objects: number; bytes: number };
  /** restore.backup.id, when set. */
  backup_id?: number;
  /** Skipped by this run (on.bad.object=skip). */
  bad_objects: number;
  /** The first skipped objects, when any. */
  skipped?: BadObjectReport[];
  /** Per source partition, `topic/partition`. */
  partitions: Record<string, PartitionProgress>;
  /** Partition offsets committed per consumer group, once the offsets phase has run. */
  groups?: Record<string, number>;
};

/** The records phase's counts: per partition (records across runs), and what this run read. */
export class RecordsTally {
  private readonly partitions = new Map<string, PartitionProgress>();
  private readonly read = { objects: 0, bytes: 0 };

  /** Starts each partition's counts where the earlier runs left them. */
  constructor(partitions: readonly { tp: TopicPartition; target: string; stored: StoredPosition }[]) {
    for (const { tp, target, stored } of partitions) {
      this.partitions.set(tpKey(tp), { target, records: stored.records, objects: 0, last_offset: stored.lastOffset, done: false });
    }
  }

  private of(tp: TopicPartition): PartitionProgress {
    return this.partitions.get(tpKey(tp))!;
  }

  bundleRead(tp: TopicPartition, bytes: number): void {
    this.read.objects++;
    this.read.bytes += bytes;
    this.of(tp).objects++;
  }

  /** Counts records handed out; returns the partition's count before them (their source offsets number on from it). */
  recordsHandedOut(tp: TopicPartition, count: number, lastOffset: bigint): number {
    const progress = this.of(tp);
    const before = progress.records;
    progress.records += count;
    progress.last_offset = Number(lastOffset);
    return before;
  }

  partitionDone(tp: TopicPartition): void {
    this.of(tp).done = true;
  }

  /** The figures of RestoreTaskProgress this tally holds. */
  figures(): Pick<RestoreTaskProgress, 'records' | 'objects' | 'bytes' | 'partitions'> {
    return {
      records: [...this.partitions.values()].reduce((n, p) => n + p.records, 0),
      objects: this.read.objects,
      bytes: this.read.bytes,
      partitions: Object.fromEntries(this.partitions),
    };
  }
}
