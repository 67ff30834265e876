/**
 * A producer writing the bench's JSON-like records at a steady rate, round-robin over a
 * topic's partitions, each record's timestamp its production time (CreateTime), for the
 * scenarios that measure how far behind the producer something trails.
 */
import KafkaLib from '@confluentinc/kafka-javascript';
import type { LibrdKafkaError } from '@confluentinc/kafka-javascript';
import { recordKey, recordValue } from './records.js';

const { Producer, CODES } = KafkaLib;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface SteadyRun {
  topic: string;
  partitions: number;
  recordsPerSecond: number;
  /** Epoch ms the rate counts from, and when production stops (unless stop() ends it first). */
  startedAt: number;
  stopAt: number;
  /** Told of every record as it is handed to the client: its partition, index in that partition and production time. */
  onRecord?: (partition: number, index: number, producedAt: number) => void;
}

export class SteadyProducer {
  /** Records produced per partition (a new topic: also each partition's next offset). */
  readonly produced: number[] = [];
  bytes = 0;
  private failure: Error | undefined;
  private stopped = false;

  private constructor(private readonly producer: InstanceType<typeof Producer>) {
    producer.on('delivery-report', (err: LibrdKafkaError) => {
      if (err) this.failure ??= new Error(`steady producer: ${err.message}`);
    });
  }

  static async connect(bootstrap: string, clientId: string): Promise<SteadyProducer> {
    const producer = new Producer({ 'bootstrap.servers': bootstrap, 'client.id': clientId, 'linger.ms': 5, 'enable.idempotence': true, dr_cb: true });
    const steady = new SteadyProducer(producer);
    await new Promise<void>((resolve, reject) => producer.connect({ timeout: 30_000 }, (err) => (err ? reject(err) : resolve())));
    producer.setPollInterval(20);
    return steady;
  }

  get records(): number {
    return this.produced.reduce((n, c) => n + c, 0);
  }

  /** Produces until run.stopAt, catching up every 20 ms with what the rate says is due; rejects on a failed delivery. */
  async run(run: SteadyRun): Promise<void> {
    while (this.produced.length < run.partitions) this.produced.push(0);
    let sent = 0;
    while (Date.now() < run.stopAt && !this.stopped && !this.failure) {
      const due = Math.floor(((Date.now() - run.startedAt) / 1000) * run.recordsPerSecond);
      while (sent < due) {
        const partition = sent % run.partitions;
        const index = this.produced[partition]!;
        const key = recordKey(partition, index);
        const value = recordValue('compressible', partition, index);
        const now = Date.now();
        try {
          this.producer.produce(run.topic, partition, value, key, now);
        } catch (err) {
          // The client's queue is full: what is due is sent at the next tick.
          if ((err as { code?: number }).code === CODES.ERRORS.ERR__QUEUE_FULL) break;
          throw err;
        }
        run.onRecord?.(partition, index, now);
        this.produced[partition]!++;
        this.bytes += key.length + value.length;
        sent++;
      }
      await sleep(20);
    }
    if (this.failure) throw this.failure;
  }

  /** Ends run() at its next tick: for a run whose end depends on what is measured meanwhile. */
  stop(): void {
    this.stopped = true;
  }

  async flush(): Promise<void> {
    await new Promise<void>((resolve, reject) => this.producer.flush(30_000, (err) => (err ? reject(err) : resolve())));
    if (this.failure) throw this.failure;
  }

  async disconnect(): Promise<void> {
    await new Promise<void>((resolve) => this.producer.disconnect(() => resolve()));
  }
}
