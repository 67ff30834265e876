import { ColdstoreError, RetriableError } from '../api/errors.js';
import { failpoint } from '../api/failpoints.js';
import type { KafkaCluster } from '../api/cluster.js';
import type { RecordPlacement, SourceOffsetEntry, SourceRecord } from '../api/records.js';
import type { SourceTask } from '../api/source.js';
import type { KafkaConnection } from '../kafka/client-config.js';
import { abortAfter } from '../kafka/errors.js';
import { readTopicToEnd } from '../kafka/topic-reader.js';
import { namespaces, type CheckpointStore } from '../storage/checkpoint-store.js';
import type { RecordProducer, RecordProducerFactory } from './record-producer.js';
import { latestOffsets, offsetsTopicFormat, type StoredSourceOffset } from './source-offsets.js';

export interface DeliveryDeps {
  connector: string;
  taskId: number;
  store: CheckpointStore;
  task: SourceTask;
  createProducer: RecordProducerFactory;
  /** Called once a batch's offsets are persisted, with its records. */
  onCommitted: (records: readonly SourceRecord[]) => Promise<void>;
}

/**
 * How a source task's records reach Kafka and their offsets become durable.
 * Either way an offset is persisted only once Kafka stored every record up to it.
 */
export interface SourceDelivery {
  open(): Promise<void>;
  /** Takes one poll's records; may wait while too much is in flight. */
  submit(records: SourceRecord[]): Promise<void>;
  /**
   * Persists the offsets of every batch acknowledged so far. True when it waited for a
   * transaction polled ahead of: the task may have more to hand over at once.
   */
  commitSettled(): Promise<boolean>;
  /** Waits for everything in flight and persists it. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/** The batch's own offsets plus what the task derives from where its records landed. */
function batchOffsets(task: SourceTask, records: SourceRecord[], placements: RecordPlacement[]): SourceOffsetEntry[] {
  const own = records.map((r) => ({ partition: r.sourcePartition, offset: r.sourceOffset }));
  return [...own, ...(task.delivered?.(records, placements) ?? [])];
}

interface InFlightBatch {
  records: SourceRecord[];
  placements: RecordPlacement[] | undefined;
  error: unknown;
  done: Promise<void>;
}

/**
 * At least once: an idempotent producer with several batches in flight; offsets are
 * persisted in poll order as batches are acknowledged, so a crash repeats at most
 * what was in flight.
 */
export class PipelinedDelivery implements SourceDelivery {
  /**
   * Made and connected with the first records: a task that never produces (RestoreSource
   * with target=dispatcher) opens no Kafka producer, and holds no client, threads or sockets.
   */
  private producer: Promise<RecordProducer> | undefined;
  private readonly inFlight: InFlightBatch[] = [];

  constructor(
    private readonly deps: DeliveryDeps,
    private readonly maxInFlightBatches = 8,
  ) {}

  async open(): Promise<void> {}

  private connected(): Promise<RecordProducer> {
    this.producer ??= (async () => {
      const producer = this.deps.createProducer({ clientId: `coldstore-${this.deps.connector}-${this.deps.taskId}` });
      try {
        await producer.connect();
      } catch (err) {
        this.producer = undefined;
        await producer.disconnect().catch(() => {});
        throw err;
      }
      return producer;
    })();
    return this.producer;
  }

  async submit(records: SourceRecord[]): Promise<void> {
    if (records.length === 0) return void (await this.commitSettled());
    const producer = await this.connected();
    const batch: InFlightBatch = { records, placements: undefined, error: undefined, done: Promise.resolve() };
    batch.done = producer.sendAll(records).then(
      (placements) => void (batch.placements = placements),
      (err: unknown) => void (batch.error = err ?? new Error('delivery failed')),
    );
    this.inFlight.push(batch);
    await this.commitSettled();
    while (this.inFlight.length > this.maxInFlightBatches) await this.commitHead();
  }

  async commitSettled(): Promise<boolean> {
    while (this.inFlight[0] && (this.inFlight[0].placements || this.inFlight[0].error)) await this.commitHead();
    return false;
  }

  /** A failed delivery throws before anything of it or after it is persisted. */
  private async commitHead(): Promise<void> {
    const batch = this.inFlight[0];
    if (!batch) return;
    await batch.done;
    if (batch.error) throw batch.error;
    const offsets = batchOffsets(this.deps.task, batch.records, batch.placements!);
    failpoint('source.before-commit');
    await this.deps.store.write(namespaces.sourceOffsets(this.deps.connector), latestOffsets(offsets));
    this.inFlight.shift();
    await this.deps.onCommitted(batch.records);
  }

  async drain(): Promise<void> {
    while (this.inFlight.length > 0) await this.commitHead();
  }

  async close(): Promise<void> {
    this.inFlight.length = 0;
    const producer = await this.producer?.catch(() => undefined);
    this.producer = undefined;
    await producer?.disconnect();
  }
}

/** Where transactional source tasks commit their offsets with their records (offset.storage.topic). */
export interface OffsetsTopic {
  name: string;
  /**
   * This connector's offsets in the topic (null: reset), keyed as in the checkpoint store,
   * read to its end as it is once `after` settled (rejected: the read fails with it).
   */
  readOffsets(clientId: string, after?: Promise<unknown>): Promise<Record<string, StoredSourceOffset | null>>;
}

/**
 * This connector's offsets in the offsets topic (null: reset), keyed as in the checkpoint
 * store: the topic's end is taken once `after` settled; the reader connects meanwhile.
 */
export async function readConnectorOffsets(
  kafka: KafkaConnection,
  admin: KafkaCluster,
  topic: string,
  connector: string,
  clientId: string,
  after: Promise<unknown> = Promise.resolve(),
): Promise<Record<string, StoredSourceOffset | null>> {
  const ends = (async () => {
    await after;
    const described = await admin.describeTopic(topic);
    return described ? admin.endOffsets(topic, described.partitions) : new Map<number, bigint>();
  })();
  return offsetsTopicFormat.decode(connector, await readTopicToEnd(kafka, `${clientId}-offsets`, topic, ends));
}

/**
 * Exactly once: each poll's records and their offsets go into one Kafka transaction
 * (offsets in the offsets topic, as Kafka Connect does), so after a crash the
 * offsets topic says exactly which records were committed. The checkpoint store
 * mirrors it and is overwritten from it when the task starts.
 *
 * submit() returns once the transaction has begun: its records are acknowledged and
 * it commits while the task polls again (a restore fetching and decoding its next
 * records takes about as long as that). One transaction at a time, as a Kafka producer allows:
 * the next begins only after this one committed and was mirrored, so offsets are
 * persisted in poll order, and a failed one fails the next submit (or drain) before
 * anything polled after it goes to Kafka.
 */
export class TransactionalDelivery implements SourceDelivery {
  private readonly producer: RecordProducer;
  private readonly clientId: string;
  /** The transaction committing meanwhile; resolves (never rejects) to its failure, if any. */
  private committing: Promise<unknown> | undefined;

  constructor(
    private readonly deps: DeliveryDeps,
    private readonly offsetsTopic: OffsetsTopic,
    private readonly cluster: KafkaCluster,
  ) {
    this.clientId = `coldstore-${deps.connector}-${deps.taskId}`;
    this.producer = deps.createProducer({ clientId: this.clientId, transactionalId: this.clientId });
  }

  /**
   * Fences a previous incarnation of this task (initTransactions aborts its open
   * transaction and bars it from committing another), then reads the offsets topic to
   * its end as it is after that, as Kafka Connect does (KIP-618): an end taken before
   * the fence could miss a transaction the zombie commits meanwhile, and this task would
   * then deliver that transaction's records again. Only the end must wait for the fence:
   * the offsets reader connects while the producer connects and fences.
   */
  async open(): Promise<void> {
    await this.cluster.createTopic(this.offsetsTopic.name, 1, { configs: { 'cleanup.policy': 'compact' } });
    const fenced = this.producer.connect().then(() => this.producer.initTransactions());
    // Both settled before going on: a failed read must not let close() disconnect a producer still fencing.
    const [fencing, read] = await Promise.allSettled([fenced, this.offsetsTopic.readOffsets(this.clientId, fenced)]);
    if (fencing.status === 'rejected') throw fencing.reason;
    if (read.status === 'rejected') throw read.reason;
    await this.loadCommittedOffsets(read.value);
  }

  /**
   * What the offsets topic holds for this connector wins over the checkpoint store (it
   * may be ahead: a crash between commit and mirroring). Keys the topic does not know
   * stay as they are: offsets from before transactions were turned on, or mirrored by
   * other tasks.
   */
  private async loadCommittedOffsets(committed: Record<string, StoredSourceOffset | null>): Promise<void> {
    if (Object.keys(committed).length > 0) await this.deps.store.write(namespaces.sourceOffsets(this.deps.connector), committed);
  }

  async submit(records: SourceRecord[]): Promise<void> {
    await this.committed();
    await this.producer.beginTransaction();
    this.committing = this.complete(records).then(
      () => undefined,
      (err: unknown) => err ?? new Error('transaction failed'),
    );
  }

  /**
   * Sends the records and, at once, their own offsets (they need no acknowledgement: the
   * commit makes both visible or neither); once the records are acknowledged, what the
   * task derives from where they landed; commits, then mirrors the offsets. Aborts on any
   * failure before the commit. The derived offsets come after the own ones in the offsets
   * topic, as in the mirror, so the same one wins where both name a source partition.
   */
  private async complete(records: SourceRecord[]): Promise<void> {
    const own = latestOffsets(records.map((r) => ({ partition: r.sourcePartition, offset: r.sourceOffset })));
    let offsets = own;
    try {
      const [placements] = await Promise.all([this.producer.sendAll(records), this.sendOffsets(own)]);
      const derived = this.deps.task.delivered?.(records, placements) ?? [];
      if (derived.length > 0) {
        const latest = latestOffsets(derived);
        await this.sendOffsets(latest);
        offsets = { ...own, ...latest };
      }
      failpoint('source.before-commit');
      await this.producer.commitTransaction();
    } catch (failure) {
      const err = await abortAfter(failure, () => this.producer.abortTransaction());
      // A permanent error (record too large, not authorized) stays permanent: retrying would not help.
      if (err instanceof ColdstoreError && !(err instanceof RetriableError)) throw err;
      throw new RetriableError(`transaction aborted: ${(err as Error).message}; the task resumes from its last committed transaction`, { cause: err });
    }
    failpoint('source.after-commit');
    await this.deps.store.write(namespaces.sourceOffsets(this.deps.connector), offsets);
    await this.deps.onCommitted(records);
  }

  private sendOffsets(offsets: Record<string, StoredSourceOffset>): Promise<unknown> {
    const name = this.offsetsTopic.name;
    return this.producer.sendAll(Object.values(offsets).map((entry) => ({ topic: name, ...offsetsTopicFormat.encode(this.deps.connector, entry) })));
  }

  /** Waits for the transaction in flight to commit and be mirrored, throwing its failure; false when none was. */
  private async committed(): Promise<boolean> {
    const committing = this.committing;
    if (!committing) return false;
    const failure = await committing;
    if (this.committing === committing) this.committing = undefined;
    if (failure) throw failure;
    return true;
  }

  commitSettled(): Promise<boolean> {
    return this.committed();
  }

  async drain(): Promise<void> {
    await this.committed();
  }

  /** A failed session still lets the transaction in flight end (committed and mirrored, or aborted) before the producer goes. */
  async close(): Promise<void> {
    await this.committing;
    this.committing = undefined;
    await this.producer.disconnect();
  }
}
