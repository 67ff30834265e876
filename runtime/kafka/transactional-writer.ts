import type { ColdstoreError } from '../api/errors.js';
import { SerialQueue } from '../support/serial-queue.js';
import type { KafkaConnection } from './client-config.js';
import { isFenced } from '../api/errors.js';
import { abortAfter } from './errors.js';
import { KafkaProducer, type Delivery } from './producer.js';

export interface KeyedValue {
  key: Buffer;
  value: Buffer | null;
}

/**
 * Writes batches of records to one topic, each batch in one Kafka transaction: all of
 * it becomes visible to read_committed readers or none of it. The transactional.id
 * names the role (a task, the leader), so the first write of a new holder of the role
 * fences every older one: from then on the older producer's writes fail with
 * TASK_FENCED and can no longer land.
 */
export class TransactionalWriter {
  private producer: KafkaProducer;
  private ready: Promise<void> | undefined;
  private readonly queue = new SerialQueue();
  private fenced: ColdstoreError | undefined;

  /**
   * `transactional: false` makes a plain idempotent writer (status): no atomic batches and
   * no fencing, but nothing a killed writer leaves open can hold back the topic's readers.
   */
  constructor(
    private readonly connection: KafkaConnection,
    readonly transactionalId: string,
    private readonly topic: string,
    private readonly transactional = true,
  ) {
    this.producer = this.newProducer();
  }

  private newProducer(): KafkaProducer {
    return new KafkaProducer(this.connection, this.transactionalId, {
      ...(this.transactional
        ? {
            'transactional.id': this.transactionalId,
            // A writer killed mid-transaction holds back every read_committed reader of the
            // partition until its successor aborts it or the broker times it out; keep that bounded.
            'transaction.timeout.ms': 15_000,
          }
        : {}),
      'linger.ms': 0,
    });
  }

  /** Registers the transactional.id (fencing older holders) and aborts what they left open. */
  init(): Promise<void> {
    this.ready ??= (async () => {
      await this.producer.connect();
      if (this.transactional) await this.producer.initTransactions();
    })();
    this.ready.catch(() => (this.ready = undefined));
    return this.ready;
  }

  /** A newer holder of the transactional.id fenced this writer: every write fails from now on. */
  get isFenced(): boolean {
    return this.fenced !== undefined;
  }

  write(records: KeyedValue[]): Promise<Delivery[]> {
    return this.queue.run(async () => {
      if (this.fenced) throw this.fenced;
      await this.init();
      if (!this.transactional) {
        try {
          return await Promise.all(records.map((r) => this.producer.send({ topic: this.topic, key: r.key, value: r.value })));
        } catch (err) {
          // An idempotent producer can end in a fatal state (a broker that lost its producer state) and
          // then fails every send: a plain writer starts over with a new one (its writes may repeat).
          const failed = this.producer;
          this.producer = this.newProducer();
          this.ready = undefined;
          await failed.disconnect().catch(() => undefined);
          throw err;
        }
      }
      await this.producer.beginTransaction();
      try {
        const deliveries = await Promise.all(records.map((r) => this.producer.send({ topic: this.topic, key: r.key, value: r.value })));
        await this.producer.commitTransaction();
        return deliveries;
      } catch (failure) {
        const err = await abortAfter(failure, () => this.producer.abortTransaction());
        if (isFenced(err)) this.fenced = err;
        throw err;
      }
    });
  }

  async close(): Promise<void> {
    await this.queue.idle();
    await this.producer.disconnect();
  }
}
