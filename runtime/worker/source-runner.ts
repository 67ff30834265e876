import type { KafkaCluster } from '../api/cluster.js';
import type { RawConfig } from '../api/config-def.js';
import { ColdstoreError, ErrorCodes, isFenced, isRetriable } from '../api/errors.js';
import type { PollResult, SourceTask, SourceTaskContext } from '../api/source.js';
import { configFingerprint } from '../config/fingerprint.js';
import { namespaces, type CheckpointStore } from '../storage/checkpoint-store.js';
import { Backoff } from '../api/retry.js';
import { PipelinedDelivery, TransactionalDelivery, type DeliveryDeps, type OffsetsTopic, type SourceDelivery } from './source-delivery.js';
import type { RecordProducerFactory } from './record-producer.js';
import { sourcePartitionKey, type StoredSourceOffset } from './source-offsets.js';
import { topicsOf } from './active-topics.js';
import { taskLogger, taskStateStore } from './task-context.js';
import { TaskRunner, type TaskRunnerDeps } from './task-runner.js';

export interface SourceRunnerDeps extends TaskRunnerDeps {
  /** A fresh task instance; after a recoverable failure the runner starts a new one from the persisted offsets. */
  newTask: () => SourceTask;
  config: RawConfig;
  /** The connector's config as stored (placeholders unresolved): what identifies the job for the FINISHED marker. */
  jobConfig?: RawConfig;
  store: CheckpointStore;
  cluster: KafkaCluster;
  /** The task's producer (Kafka's in the worker, a fake in unit tests). */
  createProducer: RecordProducerFactory;
  /** Set when records and offsets go into Kafka transactions (transaction.boundary=poll). */
  offsetsTopic?: OffsetsTopic;
  /**
   * Standalone: no other worker can own this task, so a fenced producer means the broker
   * aborted the open transaction (paused past transaction.timeout.ms): start over from the
   * committed offsets. In cluster mode a fence means the task moved, and this copy stops.
   */
  restartWhenFenced?: boolean;
}

/** More fences than this within the window: another process owns the same transactional id. */
const MAX_FENCES = 5;
const FENCE_WINDOW_MS = 10 * 60_000;

/** Task state key marking a finite job as finished, so a restarted worker does not silently run it again. */
export const FINISHED_KEY = '__finished';

interface FinishedMarker {
  at: string;
  summary?: Record<string, unknown>;
  /** Fingerprint of the task config it finished with: a changed config is a new job. */
  config?: string;
}

/**
 * The source loop: poll the task and hand its records to a delivery (pipelined,
 * or one transaction per poll), which persists offsets only for records Kafka
 * stored. A retriable failure (broker away, transaction aborted) restarts the
 * task from its persisted offsets after a backoff; anything else fails it.
 */
export class SourceTaskRunner extends TaskRunner {
  private task: SourceTask | undefined;
  private finishedSummary: Record<string, unknown> | undefined;

  constructor(private readonly source: SourceRunnerDeps) {
    super(source);
  }

  private get attributes() {
    return { connector: this.source.connector, task: this.source.taskId };
  }

  /** Not the resolved task config: a rotated secret or a recomputed task split is not a new job. */
  private get jobFingerprint(): string {
    return configFingerprint(this.source.jobConfig ?? this.source.config);
  }

  private get stateNamespace(): string {
    return namespaces.taskState(this.source.connector, this.source.taskId);
  }

  protected override progress(): Record<string, unknown> | undefined {
    return this.finishedSummary ?? this.task?.progress?.();
  }

  protected async run(): Promise<void> {
    const finished = (await this.source.store.read(this.stateNamespace))[FINISHED_KEY] as FinishedMarker | undefined;
    if (finished && (finished.config === undefined || finished.config === this.jobFingerprint)) {
      this.finishedSummary = finished.summary ?? {};
      this.state = 'FINISHED';
      this.source.log.info({}, 'task already finished; reset the connector offsets (or change its config) to run it again');
      return;
    }
    if (finished) this.source.log.info({}, 'the config changed since this task finished; running it again from its offsets');
    const backoff = new Backoff(1_000, 30_000);
    const fences: number[] = [];
    while (!this.stopping) {
      try {
        await this.session();
        return;
      } catch (err) {
        const fenced = this.source.restartWhenFenced === true && isFenced(err);
        if (fenced) this.noteFence(fences, err);
        if (!(isRetriable(err) || fenced) || this.stopping) throw err;
        this.source.metrics.taskErrors.add(1, { ...this.attributes, kind: 'retriable' });
        const delayMs = backoff.next();
        this.source.log.warn({ err, delayMs }, 'delivery failed; restarting the task from its persisted offsets');
        await this.wakeup.sleep(delayMs);
      }
    }
  }

  /** One life of a task instance: start, loop until done or stopped, persist what was delivered. */
  private async session(): Promise<void> {
    const task = this.source.newTask();
    this.task = task;
    const deps: DeliveryDeps = {
      connector: this.source.connector,
      taskId: this.source.taskId,
      store: this.source.store,
      task,
      createProducer: this.source.createProducer,
      onCommitted: async (records) => {
        this.source.metrics.sourceRecords.add(records.length, this.attributes);
        this.source.metrics.commits.add(1, this.attributes);
        this.source.activeTopics?.note(topicsOf(records));
      },
    };
    const delivery: SourceDelivery = this.source.offsetsTopic
      ? new TransactionalDelivery(deps, this.source.offsetsTopic, this.source.cluster)
      : new PipelinedDelivery(deps);
    let failed = false;
    try {
      await delivery.open();
      await task.start(this.source.config, this.context());
      await this.loop(task, delivery);
    } catch (err) {
      failed = true;
      throw err;
    } finally {
      if (!failed) await delivery.drain().catch((err) => this.source.log.warn({ err }, 'could not persist the last offsets; they will be redone'));
      await task.stop().catch((err) => this.source.log.warn({ err }, 'task stop failed'));
      await delivery.close();
    }
  }

  private async loop(task: SourceTask, delivery: SourceDelivery): Promise<void> {
    const backoff = new Backoff();
    while (!this.stopping) {
      if (this.paused) {
        await delivery.commitSettled();
        await this.wakeup.sleep(1_000);
        continue;
      }
      let result: PollResult;
      try {
        result = await task.poll();
        backoff.reset();
      } catch (err) {
        if (!isRetriable(err)) throw err;
        this.source.metrics.taskErrors.add(1, { ...this.attributes, kind: 'retriable' });
        this.source.log.warn({ err }, 'poll failed; retrying');
        await this.wakeup.sleep(backoff.next());
        continue;
      }
      if ('done' in result) {
        await delivery.drain();
        // FINISHED is final: its status must already list every topic the job wrote to.
        await this.source.activeTopics?.flush();
        await this.finish(result.summary ?? task.progress?.() ?? {});
        return;
      }
      if (result.records.length === 0) {
        // Polled while a transaction committed, the task may have had nothing only until that commit.
        if (await delivery.commitSettled()) continue;
        await this.wakeup.sleep(100);
        continue;
      }
      await delivery.submit(result.records);
    }
  }

  /**
   * Standalone, a fence is the broker aborting a transaction after a pause: rare. Fenced
   * again and again means a second process runs this task with the same transactional id,
   * and the two would fence each other for good: fail, saying so.
   */
  private noteFence(fences: number[], err: unknown): void {
    const now = Date.now();
    fences.push(now);
    while (fences[0]! < now - FENCE_WINDOW_MS) fences.shift();
    if (fences.length <= MAX_FENCES) return;
    throw new ColdstoreError(
      ErrorCodes.KAFKA_ERROR,
      `Fenced ${fences.length} times in ${FENCE_WINDOW_MS / 60_000} minutes: another process is running task ${this.source.taskId} of ${this.source.connector} with the same transactional id (two workers with the same connector and config?). Stop the other one, then restart this task.`,
      { cause: err },
    );
  }

  private async finish(summary: Record<string, unknown>): Promise<void> {
    const marker: FinishedMarker = { at: new Date().toISOString(), summary, config: this.jobFingerprint };
    await this.source.store.write(this.stateNamespace, { [FINISHED_KEY]: marker });
    this.finishedSummary = summary;
    this.state = 'FINISHED';
    this.source.log.info({ summary }, 'task finished');
  }

  private context(): SourceTaskContext {
    const offsetsNamespace = namespaces.sourceOffsets(this.source.connector);
    return {
      connectorName: this.source.connector,
      taskId: this.source.taskId,
      log: taskLogger(this.source.log),
      state: taskStateStore(this.source.store, this.stateNamespace),
      connectorState: this.source.connectorState,
      metrics: this.source.taskMetrics,
      cluster: this.source.cluster,
      transactional: this.source.offsetsTopic !== undefined,
      offset: async (partition) => {
        const stored = (await this.source.store.read(offsetsNamespace))[sourcePartitionKey(partition)];
        return (stored as StoredSourceOffset | undefined)?.offset;
      },
      offsets: async () => Object.values(await this.source.store.read(offsetsNamespace)) as StoredSourceOffset[],
    };
  }
}
