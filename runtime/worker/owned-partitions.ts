import { tpKey, type PartitionOffsets, type SinkRecord, type TopicPartition } from '../api/records.js';
import { OwnedPartition } from './owned-partition.js';
import type { PartitionProgress } from './task-runner.js';

type HighWatermark = (tp: TopicPartition) => bigint | undefined;

/** The partitions a sink task owns, by `topic/partition`: one OwnedPartition each. */
export class OwnedPartitions {
  private readonly byKey = new Map<string, OwnedPartition>();

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): OwnedPartition | undefined {
    return this.byKey.get(key);
  }

  /** The records of partitions it owns, in order (all of them: the same array). */
  keepOwned(records: SinkRecord[]): SinkRecord[] {
    let kept: SinkRecord[] | undefined;
    forEachRun(records, (first, from, to) => {
      const owned = this.byKey.has(tpKey(first));
      if (owned && kept) for (let i = from; i < to; i++) kept.push(records[i]!);
      if (!owned && !kept) kept = records.slice(0, from);
    });
    return kept ?? records;
  }

  all(): OwnedPartition[] {
    return [...this.byKey.values()];
  }

  topicPartitions(): TopicPartition[] {
    return this.all().map((p) => p.tp);
  }

  /** Owns the partition from now on (keeping what it knew, if it owned it already), reading from `offset`. */
  add(tp: TopicPartition, offset: bigint | undefined): void {
    const key = tpKey(tp);
    const partition = this.byKey.get(key) ?? new OwnedPartition({ topic: tp.topic, partition: tp.partition });
    this.byKey.set(key, partition);
    partition.startAt(offset);
  }

  /** Gives every partition up; returns them. */
  clear(): TopicPartition[] {
    const partitions = this.topicPartitions();
    this.byKey.clear();
    return partitions;
  }

  /** What preCommit is told: past the last record handed over, per partition that has one. */
  consumed(): PartitionOffsets {
    const consumed: PartitionOffsets = new Map();
    for (const p of this.byKey.values()) if (p.consumed !== undefined) consumed.set(p.key, p.consumed);
    return consumed;
  }

  /** The durable offsets preCommit reported that move an owned partition's commit forward; the rest is never committed. */
  advancing(durable: PartitionOffsets): { partition: OwnedPartition; offset: bigint }[] {
    const advancing: { partition: OwnedPartition; offset: bigint }[] = [];
    for (const [key, offset] of durable) {
      const partition = this.byKey.get(key);
      if (partition?.advancesCommit(offset)) advancing.push({ partition, offset });
    }
    return advancing;
  }

  /** The offsets are in the checkpoint store now; returns their topics (per commit, the active topics learn from them). */
  markCommitted(advancing: readonly { partition: OwnedPartition; offset: bigint }[]): string[] {
    for (const { partition, offset } of advancing) partition.committed = offset;
    return advancing.map(({ partition }) => partition.tp.topic);
  }

  handed(records: readonly SinkRecord[]): void {
    forEachRun(records, (first, _from, to) => this.byKey.get(tpKey(first))?.handed(records[to - 1]!.offset));
  }

  /** Consumer positions sampled just now (absent: unknown); a partition sought since its last record keeps none. */
  samplePositions(sampled: Map<string, bigint>): void {
    for (const p of this.byKey.values()) p.position = p.sought ? undefined : sampled.get(p.key);
  }

  /** A seek moves the consumer: every position sampled before it is stale. */
  forgetPositions(): void {
    for (const p of this.byKey.values()) p.position = undefined;
  }

  setPausedByTask(partitions: readonly TopicPartition[], paused: boolean): void {
    for (const tp of partitions) {
      const partition = this.byKey.get(tpKey(tp));
      if (partition) partition.pausedByTask = paused;
    }
  }

  /** What the runner resumes: partitions the task itself paused stay paused. */
  notPausedByTask(): TopicPartition[] {
    return this.all()
      .filter((p) => !p.pausedByTask)
      .map((p) => p.tp);
  }

  progress(highWatermark: HighWatermark): PartitionProgress[] {
    return this.all().map((p) => p.progress(highWatermark(p.tp)));
  }

  committedOffsets(highWatermark: HighWatermark): { topic: string; partition: number; offset: bigint; highWatermark?: bigint }[] {
    return this.all().flatMap((p) => {
      if (p.committed === undefined || p.committed < 0n) return [];
      const end = highWatermark(p.tp);
      return [{ ...p.tp, offset: p.committed, ...(end !== undefined ? { highWatermark: end } : {}) }];
    });
  }
}

/**
 * A sink task's status `progress`: the task's own figures (`own`), and its partitions'
 * committed and end offsets and the lag behind what is durable.
 */
export function partitionsStatus(progress: readonly PartitionProgress[], own?: Record<string, unknown>): Record<string, unknown> | undefined {
  const partitions = progress.map((p) => ({
    topic: p.topic,
    partition: p.partition,
    committed_offset: p.committed === undefined ? null : Number(p.committed),
    end_offset: p.highWatermark === undefined ? null : Number(p.highWatermark),
    lag: p.highWatermark === undefined ? null : Math.max(0, Number(p.highWatermark - (p.durableThrough ?? p.committed ?? 0n))),
  }));
  if (partitions.length === 0) return own;
  return { ...own, partitions };
}

/**
 * Calls `run` for each run of consecutive records of one partition (records[from..to)):
 * a poll's records come in such runs, so per-partition work is done once per run, not per record.
 */
function forEachRun(records: readonly SinkRecord[], run: (first: SinkRecord, from: number, to: number) => void): void {
  let from = 0;
  while (from < records.length) {
    const first = records[from]!;
    let to = from + 1;
    while (to < records.length && records[to]!.partition === first.partition && records[to]!.topic === first.topic) to++;
    run(first, from, to);
    from = to;
  }
}
