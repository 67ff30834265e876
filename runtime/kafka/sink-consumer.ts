import KafkaLib from '@confluentinc/kafka-javascript';
import type { LibrdKafkaError, Assignment } from '@confluentinc/kafka-javascript';
import type { SinkRecord, TopicPartition } from '../api/records.js';
import { clientConfig, type KafkaClientConfig, type KafkaConnection } from './client-config.js';
import { connectClient } from './connect.js';
import { fromKafkaError } from './errors.js';
import { unpackRecords } from './message.js';
import { boundPollTime } from './poll-timing.js';
import type { TaskConsumer, TaskConsumerOptions } from '../worker/task-consumer.js';

const { KafkaConsumer, CODES } = KafkaLib;

/** The sink consumer's own settings (the benchmark's baseline consumer uses the same). */
export const SINK_CONSUMER_SETTINGS = {
  // A static member that goes away for good (tasks.max lowered) holds its partitions until this expires.
  'session.timeout.ms': 20_000,
  'enable.auto.commit': false,
  'enable.auto.offset.store': false,
  'enable.partition.eof': false,
  'partition.assignment.strategy': 'range,roundrobin',
  // Topics created after the task started (or newly matching topics.regex) are found within seconds, not minutes.
  'topic.metadata.refresh.interval.ms': 10_000,
  // Once its prefetch queue holds queued.max.messages.kbytes (64 MiB), librdkafka stops
  // fetching for this long (default 1 s): a sink taking 60-100 MB/s emptied the queue
  // well before that and waited for records, a third of a backup's time in the bench.
  'fetch.queue.backoff.ms': 20,
} as const;

export interface SinkConsumerOptions extends TaskConsumerOptions {
  connection: KafkaConnection;
  overrides?: KafkaClientConfig;
  /** Longest a consume call waits for its first record. */
  pollTimeoutMs?: number;
}

/**
 * The consumer side of the sink loop. Rebalances are handed to the owner
 * instead of being applied here, so the owner can flush and commit a revoked
 * partition before giving it up, and choose where an assigned one starts.
 */
export class SinkConsumer implements TaskConsumer {
  private readonly consumer: InstanceType<typeof KafkaConsumer>;

  constructor(private readonly options: SinkConsumerOptions) {
    this.consumer = new KafkaConsumer(
      clientConfig(options.connection, options.clientId, {
        'group.id': options.groupId,
        ...(options.groupInstanceId ? { 'group.instance.id': options.groupInstanceId } : {}),
        ...SINK_CONSUMER_SETTINGS,
        rebalance_cb: (err: LibrdKafkaError, assignment: Assignment[]) => this.handleRebalance(err, assignment),
        ...(options.overrides ?? {}),
      }) as never,
      { 'auto.offset.reset': 'earliest' },
    );
  }

  private handleRebalance(err: LibrdKafkaError, assignment: Assignment[]): void {
    const partitions = assignment.map((a) => ({ topic: a.topic, partition: a.partition }));
    if (err.code === CODES.ERRORS.ERR__ASSIGN_PARTITIONS) this.options.onRebalance({ kind: 'assigned', partitions });
    else if (err.code === CODES.ERRORS.ERR__REVOKE_PARTITIONS) this.options.onRebalance({ kind: 'revoked', partitions, lost: this.assignmentLost() });
  }

  /**
   * Only meaningful while a revocation is being handled (librdkafka's rd_kafka_assignment_lost).
   * The binding reads its native handle without checking it: asked after the consumer
   * disconnected (a revocation delivered while closing), it crashed the process (SIGSEGV,
   * seen once in the network-partition fault test). A closed consumer's partitions may
   * be anyone's by now: lost.
   */
  private assignmentLost(): boolean {
    if (!this.consumer.isConnected()) return true;
    try {
      // Public in the binding's JavaScript, missing from its type declarations.
      return (this.consumer as unknown as { assignmentLost(): boolean }).assignmentLost();
    } catch {
      return false;
    }
  }

  async connect(): Promise<void> {
    await connectClient(this.consumer as never, { timeout: 30_000 }, 'consumer connect');
    boundPollTime(this.consumer, this.options.pollTimeoutMs ?? 200);
    const subscription = this.options.topicsRegex ? [`^(${this.options.topicsRegex})$`] : [...this.options.topics];
    this.consumer.subscribe(subscription);
  }

  /** Up to `max` records; an empty list after the poll timeout. Serves rebalance callbacks too. */
  consume(max: number): Promise<SinkRecord[]> {
    return new Promise((resolve, reject) => {
      this.consumer.consumePacked(max, (err, data, numbers, topics) => {
        if (err) return reject(fromKafkaError(err, 'consume'));
        resolve(unpackRecords(data, numbers, topics));
      });
    });
  }

  /** Start consuming these partitions; `offset` is the next offset to read, or absent for the group's committed one. */
  assign(partitions: (TopicPartition & { offset?: bigint })[]): void {
    this.consumer.assign(
      partitions.map((p) =>
        p.offset === undefined ? { topic: p.topic, partition: p.partition } : { topic: p.topic, partition: p.partition, offset: Number(p.offset) },
      ),
    );
  }

  /** Gives every partition back; a consumer already disconnected has none to give. */
  unassign(): void {
    if (!this.consumer.isConnected()) return;
    try {
      this.consumer.unassign();
    } catch {
      // Disconnected between the check and the call: nothing is assigned any more.
    }
  }

  pause(partitions: TopicPartition[]): void {
    if (partitions.length > 0) this.consumer.pause(partitions);
  }

  resume(partitions: TopicPartition[]): void {
    if (partitions.length > 0) this.consumer.resume(partitions);
  }

  /** Resolves once the fetcher moved: records consumed afterwards come from the new offset. */
  seek(partition: TopicPartition, offset: bigint): Promise<void> {
    return new Promise((resolve, reject) => {
      this.consumer.seek({ ...partition, offset: Number(offset) }, 5_000, (err) => (err ? reject(fromKafkaError(err, 'seek')) : resolve()));
    });
  }

  /**
   * Mirrors offsets into the consumer group so standard tooling shows lag.
   * Asynchronous and best effort: the checkpoint store is the source of truth.
   */
  commit(offsets: (TopicPartition & { offset: bigint })[]): void {
    if (offsets.length === 0) return;
    try {
      this.consumer.commit(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: Number(o.offset) })));
    } catch {
      // Not connected or not in the group any more; the next commit carries the same offsets.
    }
  }

  /** The partition's end offset as last seen by the fetcher (no broker round trip); undefined before the first fetch. */
  highWatermark(partition: TopicPartition): bigint | undefined {
    try {
      const { highOffset } = this.consumer.getWatermarkOffsets(partition.topic, partition.partition);
      return highOffset >= 0 ? BigInt(highOffset) : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * The next offset the application would be given, per partition (no broker round trip).
   * It moves past transaction markers and aborted records, which are never delivered.
   */
  positions(partitions: TopicPartition[]): Map<string, bigint> {
    const found = new Map<string, bigint>();
    if (partitions.length === 0 || !this.consumer.isConnected()) return found;
    try {
      for (const p of this.consumer.position(partitions)) if (p.offset !== undefined && p.offset >= 0) found.set(`${p.topic}/${p.partition}`, BigInt(p.offset));
    } catch {
      // Not assigned any more: no position to report.
    }
    return found;
  }

  disconnect(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.consumer.isConnected()) return resolve();
      this.consumer.disconnect(() => resolve());
    });
  }
}
