import KafkaLib from '@confluentinc/kafka-javascript';
import type { DeliveryReport, LibrdKafkaError } from '@confluentinc/kafka-javascript';
import type { RecordHeader } from '../api/records.js';
import { clientConfig, type KafkaClientConfig, type KafkaConnection } from './client-config.js';
import { connectClient } from './connect.js';
import { fromKafkaError } from './errors.js';
import type { RecordProducer } from '../worker/record-producer.js';

const { Producer, CODES } = KafkaLib;

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

/**
 * An idempotent producer whose send() resolves when the broker acknowledged
 * the record, so callers persist progress only for acknowledged records.
 */
export class KafkaProducer implements RecordProducer {
  private readonly producer: InstanceType<typeof Producer>;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();

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
    if (!waiter) return;
    this.pending.delete(id);
    if (err) waiter.reject(fromKafkaError(err, `produce to ${report.topic}`));
    else waiter.resolve({ partition: report.partition, offset: BigInt(report.offset) });
  }

  async connect(): Promise<void> {
    await connectClient(this.producer as never, { timeout: 30_000 }, 'producer connect');
    this.producer.setPollInterval(20);
  }

  /** Resolves once the broker acknowledged the record. Waits (never drops) while the local queue is full. */
  async send(record: OutgoingRecord): Promise<Delivery> {
    const id = this.nextId++;
    const acknowledged = new Promise<Delivery>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    for (;;) {
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
        return acknowledged;
      } catch (err) {
        if ((err as { code?: number }).code === CODES.ERRORS.ERR__QUEUE_FULL) {
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        this.pending.delete(id);
        throw fromKafkaError(err, `produce to ${record.topic}`);
      }
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
