import KafkaLib from '@confluentinc/kafka-javascript';
import type { Message } from '@confluentinc/kafka-javascript';
import { RetriableError } from '../api/errors.js';
import { START_OF_PARTITION } from '../api/records.js';
import { clientConfig, type KafkaConnection } from './client-config.js';
import { connectClient } from './connect.js';
import { fromKafkaError } from './errors.js';
import { boundPollTime } from './poll-timing.js';

const { KafkaConsumer } = KafkaLib;

/** How long a read waits for records of transactions not yet complete before it settles for what is committed. */
const OPEN_TRANSACTION_GRACE_MS = 2_000;

export interface LogRecord {
  key: Buffer | null;
  value: Buffer | null;
  partition: number;
  offset: bigint;
}

/**
 * Follows every partition of a (compacted) topic from its beginning, committed records
 * only, without a consumer group, and hands each record to `onRecord` in partition
 * order. `readToEnd` waits until everything written before the call was handed over:
 * what makes a read after another worker's write see that write.
 */
export class KafkaLog {
  private readonly consumer: InstanceType<typeof KafkaConsumer>;
  private readonly positions = new Map<number, bigint>();
  /** Where each partition last reported its end (read_committed: the last stable offset). */
  private readonly ends = new Map<number, bigint>();
  private waiters: (() => void)[] = [];
  private stopped = false;
  private loop: Promise<void> | undefined;
  private failure: Error | undefined;

  constructor(
    connection: KafkaConnection,
    clientId: string,
    readonly topic: string,
    private readonly partitions: number,
    private readonly onRecord: (record: LogRecord) => void,
  ) {
    this.consumer = new KafkaConsumer(
      clientConfig(connection, clientId, {
        'group.id': `${clientId}-log`,
        'enable.auto.commit': false,
        'enable.partition.eof': true,
        'isolation.level': 'read_committed',
        // A write by another worker should reach this one in tens of milliseconds, not the default half second.
        'fetch.wait.max.ms': 20,
      }) as never,
      { 'auto.offset.reset': 'earliest' },
    );
  }

  async start(): Promise<void> {
    await connectClient(this.consumer as never, { timeout: 30_000 }, `connect to ${this.topic}`);
    boundPollTime(this.consumer, 200);
    this.consumer.on('partition.eof', (eof: { partition: number; offset: number }) => {
      this.ends.set(eof.partition, BigInt(eof.offset));
      this.advance(eof.partition, BigInt(eof.offset));
    });
    this.consumer.assign(Array.from({ length: this.partitions }, (_, partition) => ({ topic: this.topic, partition, offset: Number(START_OF_PARTITION) })));
    this.loop = this.follow();
    await this.readToEnd();
  }

  private advance(partition: number, position: bigint): void {
    if (position <= (this.positions.get(partition) ?? -1n)) return;
    this.positions.set(partition, position);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private async follow(): Promise<void> {
    while (!this.stopped) {
      let batch: Message[];
      try {
        batch = await new Promise<Message[]>((resolve, reject) =>
          this.consumer.consume(500, (err, m) => (err ? reject(fromKafkaError(err, `read ${this.topic}`)) : resolve(m))),
        );
      } catch (err) {
        this.failure = err as Error;
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      this.failure = undefined;
      for (const m of batch) {
        const key = m.key === undefined || m.key === null ? null : Buffer.from(m.key);
        this.onRecord({ key, value: m.value ?? null, partition: m.partition, offset: BigInt(m.offset) });
        this.ends.delete(m.partition);
        this.advance(m.partition, BigInt(m.offset) + 1n);
      }
    }
  }

  /**
   * Resolves once every record written (and committed) before the call was handed to
   * onRecord. It waits for the high watermark, so a transaction committed a moment ago
   * whose markers are still being written is not missed; but a transaction left open (its
   * writer killed) holds a partition below that until it is aborted, so after
   * OPEN_TRANSACTION_GRACE_MS a partition that has reached its last stable offset counts
   * as read: what is not committed is not state.
   */
  async readToEnd(timeoutMs = 60_000): Promise<void> {
    const started = Date.now();
    const deadline = started + timeoutMs;
    const ends = await this.endOffsets(deadline);
    for (;;) {
      const behind = [...ends].filter(([partition, end]) => end > 0n && (this.positions.get(partition) ?? 0n) < end);
      if (behind.length === 0) return;
      const stable = behind.every(([partition]) => this.ends.get(partition) !== undefined && this.ends.get(partition) === this.positions.get(partition));
      if (stable && Date.now() - started >= OPEN_TRANSACTION_GRACE_MS) return;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new RetriableError(
          `Reading ${this.topic} to its end took more than ${timeoutMs / 1000} s${this.failure ? ` (${this.failure.message})` : ''}; check that the brokers are reachable.`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /**
   * Each partition's high watermark, asked through this log's own consumer (whose metadata
   * follows the assignment; an admin client's cache may still miss a topic another worker
   * created a moment ago). Asked again until the deadline while leaders are being elected.
   */
  private async endOffsets(deadline: number): Promise<Map<number, bigint>> {
    const highWatermark = async (partition: number): Promise<bigint> => {
      for (;;) {
        try {
          return await new Promise<bigint>((resolve, reject) =>
            this.consumer.queryWatermarkOffsets(this.topic, partition, 5_000, (err, offsets) =>
              err ? reject(fromKafkaError(err, `end offsets of ${this.topic}`)) : resolve(BigInt(offsets.highOffset)),
            ),
          );
        } catch (err) {
          if (Date.now() > deadline) throw err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    };
    const partitions = Array.from({ length: this.partitions }, (_, p) => p);
    return new Map(await Promise.all(partitions.map(async (p) => [p, await highWatermark(p)] as const)));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    if (this.consumer.isConnected()) await new Promise<void>((resolve) => this.consumer.disconnect(() => resolve()));
  }
}
