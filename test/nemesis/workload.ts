/**
 * What the nemesis keeps writing while it injects faults, every record noted in the ledger:
 * - a plain topic: distinct keyed records into every partition;
 * - a compacted topic: a few keys over and over, the same values again and again, and
 *   tombstones (repeated data, not only distinct);
 * - a transactional topic: small transactions across its partitions, every fifth aborted,
 *   so its offsets have holes (aborted records and commit markers);
 * - an Azul binary topic: events referring to blobs the dispatcher double serves (shared by
 *   many events, or an event's own), for the azul layout.
 * Sends that fail while Kafka is away are noted as uncertain and production goes on.
 */
import { randomBytes } from 'node:crypto';
import { KafkaProducer } from '../../runtime/kafka/producer.js';
import type { OutgoingRecord } from '../../runtime/kafka/producer.js';
import type { EventMaker } from '../faults/azul-kit.js';
import type { SeededRandom } from '../faults/zombie-kit.js';
import { recordDigest, type Ledger } from './ledger.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface WorkloadTopics {
  plain: string;
  compacted: string;
  transactional: string;
  azul: string;
}

export const PARTITIONS: Record<keyof WorkloadTopics, number> = { plain: 4, compacted: 2, transactional: 2, azul: 2 };

export class Workload {
  private running = false;
  private loops: Promise<void>[] = [];
  private producer: KafkaProducer | undefined;
  private sequence = 0;
  /** Transactions committed, aborted on purpose, and ended uncertain (the commit failed). */
  readonly transactions = { committed: 0, aborted: 0, uncertain: 0 };

  constructor(
    private readonly bootstrap: string,
    readonly topics: WorkloadTopics,
    private readonly ledger: Ledger,
    private readonly rng: SeededRandom,
    private readonly azul: EventMaker,
    private readonly sharedBlobs: readonly string[],
  ) {}

  async start(): Promise<void> {
    this.producer = new KafkaProducer({ bootstrapServers: this.bootstrap, extra: {} }, 'nemesis-producer', { 'message.timeout.ms': '120000' });
    await this.producer.connect();
    this.running = true;
    this.loops = [this.every(100, () => this.plainTick()), this.every(250, () => this.azulTick()), this.transactional()];
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    await this.producer?.disconnect();
  }

  private async every(ms: number, tick: () => Promise<unknown>): Promise<void> {
    while (this.running) {
      const started = Date.now();
      await tick();
      await sleep(Math.max(0, ms - (Date.now() - started)));
    }
  }

  /** Sends and notes each record: acknowledged with its offset, or unplaced if the send failed. */
  private async sendNoted(records: OutgoingRecord[]): Promise<void> {
    await Promise.all(
      records.map(async (record) => {
        try {
          const { partition, offset } = await this.producer!.send(record);
          this.ledger.note(record.topic, { partition, offset, digest: recordDigest(record.key ?? null, record.value ?? null), fate: 'acknowledged' });
        } catch {
          this.ledger.unplacedSend(record.topic);
        }
      }),
    );
  }

  private plainTick(): Promise<void> {
    const records: OutgoingRecord[] = [];
    const { plain, compacted } = this.topics;
    for (let p = 0; p < PARTITIONS.plain; p++) {
      for (let j = 0; j < 2; j++) {
        const i = this.sequence++;
        // Some with headers (one of them null), so the restore's fidelity is checked too.
        const headers =
          i % 3 === 0
            ? [
                { key: 'trace', value: Buffer.from(`t-${i}`) },
                { key: 'empty', value: null },
              ]
            : undefined;
        records.push({ topic: plain, partition: p, key: Buffer.from(`k-${i}`), value: Buffer.from(`v-${i}-${randomBytes(8).toString('hex')}`), headers });
      }
    }
    for (let p = 0; p < PARTITIONS.compacted; p++) {
      const key = Buffer.from(`key-${this.rng.int(0, 19)}`);
      const value = this.rng.next() < 0.1 ? null : Buffer.from(`value-${this.rng.int(0, 4)}`);
      records.push({ topic: compacted, partition: p, key, value });
    }
    return this.sendNoted(records);
  }

  private azulTick(): Promise<void> {
    const records: OutgoingRecord[] = [];
    for (let p = 0; p < PARTITIONS.azul; p++) {
      const shas = [this.rng.pick(this.sharedBlobs)];
      if (this.rng.next() < 0.2) shas.push(this.azul.blob());
      records.push({ topic: this.topics.azul, partition: p, key: Buffer.from(`e-${this.sequence++}`), value: this.azul.event([...new Set(shas)]) });
    }
    return this.sendNoted(records);
  }

  /**
   * Transactions of 6 records (3 per partition) every 200 ms, every fifth aborted. A failed
   * send, commit or abort leaves its records uncertain; the producer is then replaced (its
   * initTransactions fences the old one and aborts what it left open).
   */
  private async transactional(): Promise<void> {
    const topic = this.topics.transactional;
    let producer: KafkaProducer | undefined;
    for (let n = 0; this.running; n++) {
      const started = Date.now();
      try {
        if (!producer) {
          producer = new KafkaProducer({ bootstrapServers: this.bootstrap, extra: {} }, 'nemesis-tx', { 'transactional.id': `nemesis-tx-${topic}` });
          await producer.connect();
          await producer.initTransactions(60_000);
        }
        await producer.beginTransaction();
        const records = Array.from({ length: 6 }, (_, j) => {
          const i = this.sequence++;
          return { topic, partition: j % PARTITIONS.transactional, key: Buffer.from(`t-${i}`), value: Buffer.from(`tx-${n}-${i}`) };
        });
        const placed = await Promise.all(records.map((r) => producer!.send(r).catch(() => undefined)));
        const abort = n % 5 === 4 || placed.some((d) => d === undefined);
        let fate: 'acknowledged' | 'aborted' | 'uncertain' = 'uncertain';
        try {
          if (abort) await producer.abortTransaction();
          else await producer.commitTransaction();
          fate = abort ? 'aborted' : 'acknowledged';
        } finally {
          this.transactions[fate === 'acknowledged' ? 'committed' : fate]++;
          records.forEach((r, j) => {
            const d = placed[j];
            if (d) this.ledger.note(topic, { partition: d.partition, offset: d.offset, digest: recordDigest(r.key, r.value), fate });
            else this.ledger.unplacedSend(topic);
          });
        }
      } catch {
        await producer?.disconnect().catch(() => undefined);
        producer = undefined;
        await sleep(500);
      }
      await sleep(Math.max(0, 200 - (Date.now() - started)));
    }
    await producer?.disconnect().catch(() => undefined);
  }
}
