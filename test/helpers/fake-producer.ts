import type { Delivery, OutgoingRecord } from '../../runtime/kafka/producer.js';
import type { RecordProducer } from '../../runtime/worker/record-producer.js';

interface Sent {
  record: OutgoingRecord;
  settled: boolean;
  resolve: (delivery: Delivery) => void;
  reject: (err: Error) => void;
}

/**
 * An in-memory producer for the source runner's unit tests. Sends wait for the test
 * to acknowledge or fail them, unless `autoAcknowledge` is on; `failWhen` fails
 * matching sends at once. `events` journals transactions and sends in order.
 */
export class FakeProducer implements RecordProducer {
  readonly sent: Sent[] = [];
  readonly events: string[] = [];
  autoAcknowledge = false;
  failWhen: ((record: OutgoingRecord) => Error | undefined) | undefined;
  private readonly nextOffset = new Map<string, bigint>();

  constructor(readonly options: { clientId: string; transactionalId?: string }) {}

  async connect(): Promise<void> {
    this.events.push('connect');
  }

  send(record: OutgoingRecord): Promise<Delivery> {
    this.events.push(`send ${record.topic}`);
    return new Promise((resolve, reject) => {
      const sent: Sent = { record, settled: false, resolve, reject };
      this.sent.push(sent);
      const failure = this.failWhen?.(record);
      if (failure) this.fail(this.sent.length - 1, failure);
      else if (this.autoAcknowledge) this.acknowledge(this.sent.length - 1);
    });
  }

  sendAll(records: readonly OutgoingRecord[]): Promise<Delivery[]> {
    return Promise.all(records.map((r) => this.send(r)));
  }

  /** The broker stored the record sent `index`-th. */
  acknowledge(index: number): void {
    const sent = this.sent[index]!;
    if (sent.settled) return;
    sent.settled = true;
    const partition = sent.record.partition ?? 0;
    const key = `${sent.record.topic}/${partition}`;
    const offset = this.nextOffset.get(key) ?? 0n;
    this.nextOffset.set(key, offset + 1n);
    sent.resolve({ partition, offset });
  }

  fail(index: number, err: Error): void {
    const sent = this.sent[index]!;
    if (sent.settled) return;
    sent.settled = true;
    sent.reject(err);
  }

  async initTransactions(): Promise<void> {
    this.events.push('initTransactions');
  }
  async beginTransaction(): Promise<void> {
    this.events.push('beginTransaction');
  }
  async commitTransaction(): Promise<void> {
    this.events.push('commitTransaction');
  }
  async abortTransaction(): Promise<void> {
    this.events.push('abortTransaction');
  }
  async disconnect(): Promise<void> {
    this.events.push('disconnect');
  }
}
