/**
 * An independent reader of a standby topic: a plain read_committed consumer of every
 * partition from offset 0 (no group), keeping per partition the newest record timestamp
 * seen and how many records it read. Only committed records count, as a consumer of the
 * standby would see them after a failover.
 */
import KafkaLib from '@confluentinc/kafka-javascript';
import type { Message } from '@confluentinc/kafka-javascript';

const CREATE_TIME = 1;

export class StandbyWatch {
  /** Newest record timestamp per partition; the time watching began until a first record arrives. */
  readonly newest: number[];
  readonly counts: number[];
  /** When the last partition to get a record got its first (epoch ms); 0 until then. */
  allReachedAt = 0;
  /** Records whose timestamp is not their production time (LogAppendTime): their age would mean nothing. */
  notCreateTime = 0;
  private failure: Error | undefined;
  private running = true;
  private readonly loop: Promise<void>;

  private constructor(
    private readonly consumer: KafkaLib.KafkaConsumer,
    partitions: number,
    since: number,
  ) {
    this.newest = Array.from({ length: partitions }, () => since);
    this.counts = Array.from({ length: partitions }, () => 0);
    this.loop = this.consumeUntilStopped();
  }

  /** Starts reading `topic` (which must exist with `partitions` partitions); records older than `since` cannot lower an age. */
  static async start(bootstrap: string, topic: string, partitions: number, since: number): Promise<StandbyWatch> {
    const consumer = new KafkaLib.KafkaConsumer(
      {
        'bootstrap.servers': bootstrap,
        'group.id': `coldstore-bench-standby-watch-${Date.now()}`,
        'client.id': 'coldstore-bench-standby-watch',
        'enable.auto.commit': false,
        'isolation.level': 'read_committed',
        // A record committed on the standby is seen within this of its commit, not after the default 500 ms.
        'fetch.wait.max.ms': 50,
      },
      { 'auto.offset.reset': 'earliest' },
    );
    await new Promise<void>((resolve, reject) => consumer.connect({ timeout: 30_000 }, (err) => (err ? reject(err) : resolve())));
    consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: 0 })));
    consumer.setDefaultConsumeTimeout(100);
    return new StandbyWatch(consumer, partitions, since);
  }

  private async consumeUntilStopped(): Promise<void> {
    while (this.running) {
      let batch: Message[];
      try {
        batch = await new Promise<Message[]>((resolve, reject) => this.consumer.consume(1000, (err, m) => (err ? reject(err) : resolve(m))));
      } catch (err) {
        this.failure ??= new Error(`standby reader: ${(err as Error).message}`);
        return;
      }
      for (const m of batch) {
        if (this.counts[m.partition]!++ === 0 && this.counts.every((n) => n > 0)) this.allReachedAt = Date.now();
        if ((m as Message & { timestampType?: number }).timestampType !== CREATE_TIME) this.notCreateTime++;
        const at = m.timestamp ?? 0;
        if (at > this.newest[m.partition]!) this.newest[m.partition] = at;
      }
    }
  }

  /** The recovery point's age: now − the newest record of the partition furthest behind (ms). */
  worstAge(now: number): number {
    this.check();
    return now - Math.min(...this.newest);
  }

  /** now − the newest record anywhere in the topic (ms): the same or younger than worstAge. */
  newestAge(now: number): number {
    this.check();
    return now - Math.max(...this.newest);
  }

  emptyPartitions(): number[] {
    return this.counts.flatMap((n, p) => (n === 0 ? [p] : []));
  }

  get records(): number {
    return this.counts.reduce((n, c) => n + c, 0);
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await new Promise<void>((resolve) => this.consumer.disconnect(() => resolve()));
  }
}
