import { tpKey, type TopicPartition } from '../api/records.js';
import type { PartitionProgress } from './task-runner.js';

/**
 * Everything the sink runner knows about one partition it owns, from its
 * assignment until it is revoked or lost. Offsets are next-offsets.
 */
export class OwnedPartition {
  readonly key: string;
  /** Past the last record handed to the task (or where reading was sought). */
  consumed: bigint | undefined;
  /** What the checkpoint store holds; commits never go below it. */
  committed: bigint | undefined;
  /**
   * The consumer's position, sampled when every record fetched had been handed to the
   * task: offsets below it that the task never received hold no record (markers, aborted).
   */
  position: bigint | undefined;
  /** Sought since its last record: the consumer reports the old position until the seek lands. */
  sought = false;
  /** The task paused it (e.g. backpressure): it stays paused when the runner resumes consumption. */
  pausedByTask = false;

  constructor(readonly tp: TopicPartition) {
    this.key = tpKey(tp);
  }

  /** Reading starts at `offset`; the task may have moved it below what was committed (e.g. a new backup), and commits go on from there. */
  startAt(offset: bigint | undefined): void {
    if (offset === undefined || offset < 0n) return;
    this.consumed = offset;
    this.committed = offset;
  }

  /** The task asked to read from `offset` again (a logical offset such as START_OF_PARTITION commits nothing until a record arrives). */
  seekTo(offset: bigint): void {
    this.sought = true;
    this.consumed = offset;
    this.committed = offset >= 0n ? offset : undefined;
  }

  /** A record at `offset` was handed to the task. */
  handed(offset: bigint): void {
    this.consumed = offset + 1n;
    this.sought = false;
  }

  /** Whether `offset` is past what the checkpoint store holds, so committing it moves forward. */
  advancesCommit(offset: bigint): boolean {
    return offset > (this.committed ?? -1n);
  }

  /**
   * What is committed, what was handed to the task, and the offset below which every
   * record the consumer would deliver is durable (past trailing transaction markers
   * once everything handed over is committed).
   */
  progress(highWatermark: bigint | undefined): PartitionProgress {
    const { committed, consumed: handed, position } = this;
    // Nothing handed over yet (only markers or aborted records so far) counts as caught up.
    const caughtUp = handed === undefined || (committed !== undefined && committed >= handed);
    const delivered = position !== undefined && (handed === undefined || position > handed) ? position : handed;
    const durableThrough = caughtUp && position !== undefined && (committed === undefined || position > committed) ? position : committed;
    return {
      ...this.tp,
      ...(committed !== undefined && committed >= 0n ? { committed } : {}),
      ...(delivered !== undefined && delivered >= 0n ? { delivered } : {}),
      ...(durableThrough !== undefined && durableThrough >= 0n ? { durableThrough } : {}),
      ...(highWatermark !== undefined ? { highWatermark } : {}),
    };
  }
}
