import KafkaLib from '@confluentinc/kafka-javascript';
import type { DeliveryReport, LibrdKafkaError } from '@confluentinc/kafka-javascript';
import type { RecordHeader } from '../api/records.js';
import { clientConfig, type KafkaClientConfig, type KafkaConnection } from './client-config.js';
import { connectClient } from './connect.js';
import { fromKafkaError } from './errors.js';
import type { RecordProducer } from '../worker/record-producer.js';

const { Producer, CODES } = KafkaLib;

const waitForQueueSpace = () => new Promise((resolve) => setTimeout(resolve, 20));

export interface OutgoingRecord {
  topic: string;
  partition?: number;
  timestamp?: number;
  key: Buffer | null;
  value: Buffer | null;
  headers?: RecordHeader[];
}

/** Where the broker stored a record. */
export interface Delivery {
  partition: number;
  offset: bigint;
}

interface Pending {
  resolve: (delivery: Delivery) => void;
  reject: (err: Error) => void;
}

/** A batch of records sent with sendAll: the ids first..first+n-1, one promise for all of them. */
interface PendingBatch {
  first: number;
  placements: Delivery[];
  left: number;
  resolve: (placements: Delivery[]) => void;
  reject: (err: Error) => void;
}

/**
 * An idempotent producer whose send() resolves when the broker acknowledged
 * the record, so callers persist progress only for acknowledged records.
 */
export class KafkaProducer implements RecordProducer {
  private readonly producer: InstanceType<typeof Producer>;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  /** Batches whose acknowledgements are awaited, oldest first (a task has one or two in flight). */
  private readonly batches: PendingBatch[] = [];

  constructor(connection: KafkaConnection, clientId: string, overrides: KafkaClientConfig = {}) {
    this.producer = new Producer(
      clientConfig(connection, clientId, {
        'enable.idempotence': true,
        dr_cb: true,
        'linger.ms': 5,
        ...overrides,
      }) as never,
    );
    this.producer.on('delivery-report', (err: LibrdKafkaError, report: DeliveryReport) => this.settle(err, report));
  }

  private settle(err: LibrdKafkaError | null, report: DeliveryReport): void {
    const id = report.opaque as number;
    const waiter = this.pending.get(id);
    if (!waiter) {
      this.settleInBatch(id, err, report);
      return;
    }
    this.pending.delete(id);
    if (err) waiter.reject(fromKafkaError(err, `produce to ${report.topic}`));
    else waiter.resolve({ partition: report.partition, offset: BigInt(report.offset) });
  }

  private settleInBatch(id: number, err: LibrdKafkaError | null, report: DeliveryReport): void {
    const at = this.batches.findIndex((b) => id >= b.first && id < b.first + b.placements.length);
    if (at < 0) return; // a batch that already failed
    const batch = this.batches[at]!;
    if (err) {
      this.batches.splice(at, 1);
      batch.reject(fromKafkaError(err, `produce to ${report.topic}`));
      return;
    }
    batch.placements[id - batch.first] = { partition: report.partition, offset: BigInt(report.offset) };
    if (--batch.left === 0) {
      this.batches.splice(at, 1);
      batch.resolve(batch.placements);
    }
  }

  async connect(): Promise<void> {
    await connectClient(this.producer as never, { timeout: 30_000 }, 'producer connect');
    this.producer.setPollInterval(20);
  }

  /** Resolves once the broker acknowledged the record. Waits (never drops) while the local queue is full. */
  async send(record: OutgoingRecord): Promise<Delivery> {
    const id = this.nextId++;
    const acknowledged = new Promise<Delivery>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    try {
      while (!this.tryProduce(record, id)) await waitForQueueSpace();
    } catch (err) {
      this.pending.delete(id);
      throw err;
    }
    return acknowledged;
  }

  /**
   * Resolves once the broker acknowledged every record, with where each landed, in order;
   * rejects at the first failure. One promise and no closure per record: a restore hands
   * over thousands of records per poll.
   */
  async sendAll(records: readonly OutgoingRecord[]): Promise<Delivery[]> {
    if (records.length === 0) return [];
    const first = this.nextId;
    this.nextId += records.length;
    let batch!: PendingBatch;
    const acknowledged = new Promise<Delivery[]>((resolve, reject) => {
      batch = { first, placements: new Array<Delivery>(records.length), left: records.length, resolve, reject };
    });
    this.batches.push(batch);
    try {
      for (let i = 0; i < records.length; i++) while (!this.tryProduce(records[i]!, first + i)) await waitForQueueSpace();
    } catch (err) {
      const at = this.batches.indexOf(batch);
      if (at >= 0) this.batches.splice(at, 1);
      throw err;
    }
    return acknowledged;
  }

  /** Queues one record; false while the local queue is full (the caller waits and tries again: never dropped). */
  private tryProduce(record: OutgoingRecord, id: number): boolean {
    try {
      this.producer.produce(
        record.topic,
        record.partition ?? null,
        record.value,
        record.key,
        record.timestamp ?? null,
        id,
        // The patched binding accepts null header values (scripts/patch-kafka-client.sh).
        record.headers?.map((h) => ({ [h.key]: h.value as Buffer })),
      );
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === CODES.ERRORS.ERR__QUEUE_FULL) return false;
      throw fromKafkaError(err, `produce to ${record.topic}`);
    }
  }

  /** Registers the transactional.id, fencing any older producer with the same id, and aborts what it left open. */
  initTransactions(timeoutMs = 30_000): Promise<void> {
    return new Promise((resolve, reject) =>
      this.producer.initTransactions(timeoutMs, (err) => (err ? reject(fromKafkaError(err, 'init transactions')) : resolve())),
    );
  }

  beginTransaction(): Promise<void> {
    return new Promise((resolve, reject) => this.producer.beginTransaction((err) => (err ? reject(fromKafkaError(err, 'begin transaction')) : resolve())));
  }

  commitTransaction(timeoutMs = 60_000): Promise<void> {
    return new Promise((resolve, reject) =>
      this.producer.commitTransaction(timeoutMs, (err) => (err ? reject(fromKafkaError(err, 'commit transaction')) : resolve())),
    );
  }

  abortTransaction(timeoutMs = 30_000): Promise<void> {
    return new Promise((resolve, reject) =>
      this.producer.abortTransaction(timeoutMs, (err) => (err ? reject(fromKafkaError(err, 'abort transaction')) : resolve())),
    );
  }

  flush(timeoutMs = 30_000): Promise<void> {
    return new Promise((resolve, reject) => {
      this.producer.flush(timeoutMs, (err) => (err ? reject(fromKafkaError(err, 'flush')) : resolve()));
    });
  }

  disconnect(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.producer.isConnected()) return resolve();
      this.producer.disconnect(() => resolve());
    });
  }
}
