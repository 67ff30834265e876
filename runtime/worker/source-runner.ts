import type { RawConfig } from '../api/config-def.js';
import { isRetriable } from '../api/errors.js';
import type { SourceRecord } from '../api/records.js';
import type { PollResult, SourceTask, SourceTaskContext } from '../api/source.js';
import type { KafkaConnection } from '../kafka/client-config.js';
import { KafkaProducer } from '../kafka/producer.js';
import { namespaces, type CheckpointStore } from '../storage/checkpoint-store.js';
import { Backoff } from './backoff.js';
import { sourcePartitionKey, type StoredSourceOffset } from './source-offsets.js';
import { taskLogger, taskStateStore } from './task-context.js';
import { TaskRunner, type TaskRunnerDeps } from './task-runner.js';

export interface SourceRunnerDeps extends TaskRunnerDeps {
  task: SourceTask;
  config: RawConfig;
  store: CheckpointStore;
  kafka: KafkaConnection;
  producerOverrides?: Record<string, string>;
  /** Batches produced but not yet acknowledged, at most. */
  maxInFlightBatches?: number;
}

interface InFlightBatch {
  records: SourceRecord[];
  settled: boolean;
  error: unknown;
  done: Promise<void>;
}

/** Task state key marking a finite job as finished, so a restarted worker does not silently run it again. */
export const FINISHED_KEY = '__finished';

/**
 * The source loop: poll the task, produce its records, and persist each
 * source partition's offset only once every record up to it was acknowledged
 * by Kafka — in poll order, so a crash resumes after the last acknowledged batch.
 */
export class SourceTaskRunner extends TaskRunner {
  private producer!: KafkaProducer;
  private readonly inFlight: InFlightBatch[] = [];
  private finishedSummary: Record<string, unknown> | undefined;

  constructor(private readonly source: SourceRunnerDeps) {
    super(source);
  }

  private get attributes() {
    return { connector: this.source.connector, task: this.source.taskId };
  }

  private get stateNamespace(): string {
    return namespaces.taskState(this.source.connector, this.source.taskId);
  }

  protected override progress(): Record<string, unknown> | undefined {
    return this.finishedSummary ?? this.source.task.progress?.();
  }

  protected async run(): Promise<void> {
    const finished = (await this.source.store.read(this.stateNamespace))[FINISHED_KEY] as { summary?: Record<string, unknown> } | undefined;
    if (finished) {
      this.finishedSummary = finished.summary ?? {};
      this.state = 'FINISHED';
      this.source.log.info({}, 'task already finished; reset the connector offsets to run it again');
      return;
    }
    await this.source.task.start(this.source.config, this.context());
    this.producer = new KafkaProducer(this.source.kafka, `coldstore-${this.source.connector}-${this.source.taskId}`, this.source.producerOverrides);
    await this.producer.connect();
    try {
      await this.loop();
    } finally {
      await this.drain().catch((err) => this.source.log.warn({ err }, 'could not persist the last offsets; they will be redone'));
      await this.source.task.stop().catch((err) => this.source.log.warn({ err }, 'task stop failed'));
      await this.producer.disconnect();
    }
  }

  private async loop(): Promise<void> {
    const backoff = new Backoff();
    while (!this.stopping) {
      if (this.paused) {
        await this.commitSettled();
        await this.wakeup.sleep(1_000);
        continue;
      }
      let result: PollResult;
      try {
        result = await this.source.task.poll();
        backoff.reset();
      } catch (err) {
        if (!isRetriable(err)) throw err;
        this.source.metrics.taskErrors.add(1, { ...this.attributes, kind: 'retriable' });
        this.source.log.warn({ err }, 'poll failed; retrying');
        await this.wakeup.sleep(backoff.next());
        continue;
      }
      if ('done' in result) {
        await this.drain();
        await this.finish(result.summary ?? this.source.task.progress?.() ?? {});
        return;
      }
      if (result.records.length === 0) {
        await this.commitSettled();
        await this.wakeup.sleep(100);
        continue;
      }
      this.send(result.records);
      await this.commitSettled();
      while (this.inFlight.length > (this.source.maxInFlightBatches ?? 8)) await this.commitHead();
    }
  }

  private send(records: SourceRecord[]): void {
    const batch: InFlightBatch = { records, settled: false, error: undefined, done: Promise.resolve() };
    batch.done = Promise.all(
      records.map((r) =>
        this.producer.send({ topic: r.topic, partition: r.partition, timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers }),
      ),
    ).then(
      () => {
        batch.settled = true;
      },
      (err: unknown) => {
        batch.settled = true;
        batch.error = err;
      },
    );
    this.inFlight.push(batch);
  }

  private async commitSettled(): Promise<void> {
    while (this.inFlight[0]?.settled) await this.commitHead();
  }

  /** Waits for the oldest batch and persists its offsets; a failed delivery fails the task before anything is persisted. */
  private async commitHead(): Promise<void> {
    const batch = this.inFlight[0];
    if (!batch) return;
    await batch.done;
    if (batch.error) throw batch.error;
    const latest = new Map<string, StoredSourceOffset>();
    for (const r of batch.records) latest.set(sourcePartitionKey(r.sourcePartition), { partition: r.sourcePartition, offset: r.sourceOffset });
    await this.source.store.write(namespaces.sourceOffsets(this.source.connector), Object.fromEntries(latest));
    this.inFlight.shift();
    this.source.metrics.sourceRecords.add(batch.records.length, this.attributes);
    this.source.metrics.commits.add(1, this.attributes);
    for (const r of batch.records) await this.source.task.commitRecord?.(r);
  }

  private async drain(): Promise<void> {
    while (this.inFlight.length > 0) await this.commitHead();
  }

  private async finish(summary: Record<string, unknown>): Promise<void> {
    await this.source.store.write(this.stateNamespace, { [FINISHED_KEY]: { at: new Date().toISOString(), summary } });
    this.finishedSummary = summary;
    this.state = 'FINISHED';
    this.source.log.info({ summary }, 'task finished');
  }

  private context(): SourceTaskContext {
    return {
      connectorName: this.source.connector,
      taskId: this.source.taskId,
      log: taskLogger(this.source.log),
      state: taskStateStore(this.source.store, this.stateNamespace),
      connectorState: this.source.connectorState,
      metrics: this.source.taskMetrics,
      offset: async (partition) => {
        const stored = (await this.source.store.read(namespaces.sourceOffsets(this.source.connector)))[sourcePartitionKey(partition)];
        return (stored as StoredSourceOffset | undefined)?.offset;
      },
    };
  }
}
