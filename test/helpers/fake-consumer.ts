import { START_OF_PARTITION, tpKey, type SinkRecord, type TopicPartition } from '../../runtime/api/index.js';
import type { RebalanceEvent, TaskConsumer, TaskConsumerOptions } from '../../runtime/worker/task-consumer.js';

/**
 * An in-memory consumer for the sink runner's unit tests: one log per partition,
 * a position per assigned partition, and a journal of what the runner asked for
 * (`events`, shared with the fake task so the order of both can be checked).
 */
export class FakeConsumer implements TaskConsumer {
  options: TaskConsumerOptions | undefined;
  readonly logs = new Map<string, SinkRecord[]>();
  readonly assigned = new Map<string, bigint>();
  readonly paused = new Set<string>();
  readonly groupCommits: { key: string; offset: bigint }[] = [];
  connected = false;

  constructor(readonly events: string[] = []) {}

  /** Appends `count` records to the partition's log. */
  produce(topic: string, partition: number, count: number): void {
    const log = this.logs.get(tpKey({ topic, partition })) ?? [];
    for (let i = 0; i < count; i++) {
      const offset = BigInt(log.length);
      log.push({
        topic,
        partition,
        offset,
        timestamp: 0,
        timestampType: 'CREATE_TIME',
        key: null,
        value: Buffer.from(`${topic}/${partition}@${offset}`),
        headers: [],
      });
    }
    this.logs.set(tpKey({ topic, partition }), log);
  }

  /** What the group coordinator would hand over in a rebalance. */
  rebalance(event: RebalanceEvent): void {
    this.options!.onRebalance(event);
  }

  async connect(): Promise<void> {
    this.connected = true;
  }

  async consume(max: number): Promise<SinkRecord[]> {
    this.events.push('consume');
    const batch: SinkRecord[] = [];
    for (const [key, position] of this.assigned) {
      if (this.paused.has(key)) continue;
      const log = this.logs.get(key) ?? [];
      const taken = log.slice(Number(position), Number(position) + max - batch.length);
      batch.push(...taken);
      this.assigned.set(key, position + BigInt(taken.length));
    }
    if (batch.length === 0) await new Promise((r) => setTimeout(r, 5));
    return batch;
  }

  assign(partitions: (TopicPartition & { offset?: bigint })[]): void {
    this.events.push(`assign ${partitions.map((p) => `${tpKey(p)}@${p.offset ?? 'group'}`).join(' ')}`);
    for (const p of partitions) this.assigned.set(tpKey(p), p.offset === undefined || p.offset === START_OF_PARTITION ? 0n : p.offset);
  }

  /** Like librdkafka, a partition's pause flag outlives its assignment: only resume() clears it. */
  unassign(): void {
    this.events.push('unassign');
    this.assigned.clear();
  }

  pause(partitions: TopicPartition[]): void {
    this.events.push(`pause ${partitions.map(tpKey).join(' ')}`);
    for (const p of partitions) this.paused.add(tpKey(p));
  }

  resume(partitions: TopicPartition[]): void {
    this.events.push(`resume ${partitions.map(tpKey).join(' ')}`);
    for (const p of partitions) this.paused.delete(tpKey(p));
  }

  async seek(partition: TopicPartition, offset: bigint): Promise<void> {
    this.events.push(`seek ${tpKey(partition)} ${offset}`);
    this.assigned.set(tpKey(partition), offset === START_OF_PARTITION ? 0n : offset);
  }

  commit(offsets: (TopicPartition & { offset: bigint })[]): void {
    for (const o of offsets) this.groupCommits.push({ key: tpKey(o), offset: o.offset });
  }

  highWatermark(partition: TopicPartition): bigint | undefined {
    const log = this.logs.get(tpKey(partition));
    return log ? BigInt(log.length) : undefined;
  }

  positions(partitions: TopicPartition[]): Map<string, bigint> {
    const found = new Map<string, bigint>();
    for (const p of partitions) {
      const position = this.assigned.get(tpKey(p));
      if (position !== undefined) found.set(tpKey(p), position);
    }
    return found;
  }

  async disconnect(): Promise<void> {
    this.events.push('disconnect');
    this.connected = false;
  }
}
