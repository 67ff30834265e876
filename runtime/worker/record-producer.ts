import type { Delivery, OutgoingRecord } from '../kafka/producer.js';

/**
 * The producer a source task's delivery drives (runtime/kafka/producer.ts over
 * Kafka; a fake in unit tests). send() resolves only once the broker acknowledged
 * the record, so offsets are persisted only for what Kafka stored.
 */
export interface RecordProducer {
  connect(): Promise<void>;
  send(record: OutgoingRecord): Promise<Delivery>;
  /** Like send for each record, with one promise for all: where each landed, in order; rejects at the first failure. */
  sendAll(records: readonly OutgoingRecord[]): Promise<Delivery[]>;
  /** Registers the transactional id, fencing any older producer with the same id. */
  initTransactions(): Promise<void>;
  beginTransaction(): Promise<void>;
  commitTransaction(): Promise<void>;
  abortTransaction(): Promise<void>;
  disconnect(): Promise<void>;
}

/** A producer for one source task; with a transactional id its records go into Kafka transactions. */
export type RecordProducerFactory = (options: { clientId: string; transactionalId?: string }) => RecordProducer;
