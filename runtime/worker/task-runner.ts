import { ColdstoreError, describeError, ErrorCodes, isRetriable } from '../api/errors.js';
import type { TaskMetrics } from '../api/metrics.js';
import type { TaskStateStore } from '../api/task-state.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { ActiveTopics } from './active-topics.js';
import type { State, TaskStatus } from './task-status.js';
import { Wakeup } from './wakeup.js';

/** Where a sink task is with one of its partitions (next-offsets). */
export interface PartitionProgress {
  topic: string;
  partition: number;
  committed?: bigint;
  /** Past every record handed to the task (and any markers after them). */
  delivered?: bigint;
  /** Every record below this offset is durable. */
  durableThrough?: bigint;
  highWatermark?: bigint;
}

export interface TaskRunnerDeps {
  connector: string;
  taskId: number;
  workerId: string;
  log: Logger;
  metrics: Metrics;
  shutdownTimeoutMs: number;
  /** Hides resolved placeholder values (secrets) from traces. */
  redact: (text: string) => string;
  /** The plugin's declared metrics bound to this task. */
  taskMetrics: TaskMetrics;
  /** The connector's shared state (every task sees the same). */
  connectorState: TaskStateStore;
  /** Names the task's consumer-group membership: the worker's id standalone, the cluster's group.id in cluster mode. */
  memberScope?: string;
  /** Frees what the task held for its writes (cluster mode: its transactional producer), once it ended. */
  release?: () => Promise<void>;
  /** Where the topics the task uses are recorded (GET /connectors/{name}/topics); none in unit tests. */
  activeTopics?: ActiveTopics;
}

/**
 * Lifecycle shared by sink and source tasks: one async loop per task, paused
 * and resumed by flags, FAILED with a trace when the loop throws, stopped
 * gracefully (the loop flushes and commits) within a deadline.
 */
export abstract class TaskRunner {
  protected state: State = 'UNASSIGNED';
  protected trace: string | undefined;
  protected paused = false;
  protected stopping = false;
  protected readonly wakeup = new Wakeup();
  private running: Promise<void> | undefined;

  constructor(protected readonly deps: TaskRunnerDeps) {}

  protected abstract run(): Promise<void>;
  protected progress(): Record<string, unknown> | undefined {
    return undefined;
  }

  /** Sink tasks: per owned partition, how far it is handed over and durable. */
  partitionProgress(): PartitionProgress[] {
    return [];
  }

  /** Sink tasks: make everything consumed so far durable soon. */
  requestFlush(): void {}

  /** Committed positions (and end offsets, when known) of the partitions this task consumes (sinks only). */
  committedOffsets(): { topic: string; partition: number; offset: bigint; highWatermark?: bigint }[] {
    return [];
  }

  start(initiallyPaused: boolean): void {
    this.paused = initiallyPaused;
    this.state = initiallyPaused ? 'PAUSED' : 'RUNNING';
    this.running = this.run()
      .then(
        () => {
          if (this.state !== 'FINISHED' && this.state !== 'FAILED') this.state = 'STOPPED';
        },
        (err: unknown) => this.fail(err),
      )
      .then(() => this.deps.release?.())
      .catch((err: unknown) => this.deps.log.warn({ err }, 'releasing the task failed'));
  }

  protected fail(err: unknown): void {
    if (err instanceof ColdstoreError && err.code === ErrorCodes.TASK_FENCED) {
      // Not a failure of the task: it runs elsewhere now, and this copy must not write anything more.
      this.state = 'UNASSIGNED';
      this.deps.metrics.tasksFenced.add(1, { connector: this.deps.connector, task: this.deps.taskId });
      this.deps.log.warn({ err: err.message }, 'task fenced: another worker owns it now; this copy stopped without committing');
      return;
    }
    this.state = 'FAILED';
    this.trace = this.deps.redact(describeError(err));
    this.deps.metrics.taskErrors.add(1, { connector: this.deps.connector, task: this.deps.taskId, kind: 'fatal' });
    this.deps.log.error({ err, retriable: isRetriable(err) }, 'task failed; fix the cause and restart the task');
  }

  pause(): void {
    this.paused = true;
    if (this.state === 'RUNNING') this.state = 'PAUSED';
    this.wakeup.notify();
  }

  resume(): void {
    this.paused = false;
    if (this.state === 'PAUSED') this.state = 'RUNNING';
    this.wakeup.notify();
  }

  /** Asks the loop to flush, commit and end; resolves when it did or the deadline passed. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeup.notify();
    if (!this.running) return;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.deps.shutdownTimeoutMs);
    });
    const outcome = await Promise.race([this.running.then(() => 'done' as const), deadline]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.deps.log.warn({ timeoutMs: this.deps.shutdownTimeoutMs }, 'task did not stop in time; its uncommitted work will be redone on restart');
    }
  }

  status(): TaskStatus {
    const progress = this.progress();
    return {
      id: this.deps.taskId,
      state: this.state,
      worker_id: this.deps.workerId,
      ...(this.trace ? { trace: this.trace } : {}),
      ...(progress ? { progress } : {}),
    };
  }

  get currentState(): State {
    return this.state;
  }
}
