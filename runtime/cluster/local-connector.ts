import type { RawConfig } from '../api/config-def.js';
import type { Connector, ConnectorPlugin } from '../api/connector.js';
import { describeError } from '../api/errors.js';
import { configFingerprint } from '../config/fingerprint.js';
import { createRedactor, resolvePlaceholders } from '../config/placeholders.js';
import { logUnknownKeys } from '../config/connect-keys.js';
import { definitionFor } from '../config/connector-config.js';
import type { ConnectorStatus } from '../herder/connector-instance.js';
import type { ConnectorHandle } from '../herder/herder-api.js';
import type { ConnectorRecord } from '../storage/config-store.js';
import { redactingLogger, type Logger } from '../telemetry/logger.js';
import { taskLogger } from '../worker/task-context.js';
import type { PartitionProgress, TaskRunner } from '../worker/task-runner.js';
import type { State, TaskStatus } from '../worker/task-status.js';
import type { Worker } from '../worker/worker.js';

/** A connector's task configs as its owner computed them: only what each task adds to the connector's config. */
export interface StoredTaskConfigs {
  /** The connector config they were computed from (configFingerprint). */
  version: string;
  tasks: RawConfig[];
}

/**
 * What this worker runs of one connector in a cluster: the connector instance when it
 * owns the connector (it computes the task configs), and the tasks assigned to it.
 */
export class LocalConnector implements ConnectorHandle {
  private connector: Connector | undefined;
  private connectorState: State = 'UNASSIGNED';
  private trace: string | undefined;
  private readonly runners = new Map<number, { runner: TaskRunner; overlay: string }>();
  private readonly redact: (text: string) => string;
  private readonly log: Logger;
  readonly version: string;

  constructor(
    public record: ConnectorRecord,
    readonly plugin: ConnectorPlugin,
    private readonly worker: Worker,
    private readonly statusOf: (self: LocalConnector) => ConnectorStatus,
  ) {
    this.redact = createRedactor(record.config);
    this.log = redactingLogger(worker.log.child({ connector: record.name }), this.redact);
    this.version = configFingerprint(record.config);
  }

  get name(): string {
    return this.record.name;
  }

  /** Starts the connector instance (idempotent) and returns its task configs, or undefined if it failed or is stopped. */
  async runConnector(): Promise<StoredTaskConfigs | undefined> {
    if (this.record.target === 'STOPPED') {
      await this.stopConnector();
      this.connectorState = 'STOPPED';
      return { version: this.version, tasks: [] };
    }
    if (this.connectorState === 'FAILED') return undefined;
    const { config } = resolvePlaceholders(this.record.config);
    if (!this.connector) {
      logUnknownKeys(this.log, this.plugin, definitionFor(this.plugin), this.record.config);
      const connector = this.plugin.create();
      try {
        await connector.start(config, { name: this.name, log: taskLogger(this.log), cluster: this.worker.cluster });
      } catch (err) {
        this.connectorState = 'FAILED';
        this.trace = this.redact(describeError(err));
        this.log.error({ err }, 'connector failed; fix its config or cause and restart it');
        return undefined;
      }
      this.connector = connector;
      this.trace = undefined;
      this.log.info({}, 'connector started on this worker');
    }
    this.connectorState = this.record.target;
    const maxTasks = Number(config['tasks.max'] ?? '1');
    // Only what a task adds: resolved placeholders (secrets) never reach the config topic.
    const tasks = this.connector
      .taskConfigs(maxTasks)
      .slice(0, maxTasks)
      .map((tc) => Object.fromEntries(Object.entries(tc).filter(([key, value]) => config[key] !== value)));
    return { version: this.version, tasks };
  }

  async stopConnector(): Promise<void> {
    const connector = this.connector;
    this.connector = undefined;
    if (connector) {
      try {
        await connector.stop();
      } catch (err) {
        this.log.warn({ err }, 'connector stop failed');
      }
    }
    if (this.connectorState !== 'FAILED' || !connector) this.connectorState = 'UNASSIGNED';
  }

  async restartConnector(): Promise<void> {
    await this.stopConnector();
    this.connectorState = 'UNASSIGNED';
    this.trace = undefined;
  }

  /** Runs exactly these tasks here, each with its stored config; a task whose config changed is restarted. */
  async applyTasks(mine: Map<number, RawConfig>): Promise<void> {
    for (const [id, entry] of [...this.runners]) {
      const overlay = mine.get(id);
      // A copy that ended by itself (fenced while another worker briefly owned the task) is started again.
      const ended = entry.runner.currentState === 'UNASSIGNED' || entry.runner.currentState === 'STOPPED';
      if (overlay === undefined || JSON.stringify(overlay) !== entry.overlay || ended) await this.stopTask(id);
    }
    const paused = this.record.target === 'PAUSED';
    for (const [id, overlay] of mine) {
      const running = this.runners.get(id);
      if (running) {
        if (paused) running.runner.pause();
        else running.runner.resume();
        continue;
      }
      const { config } = resolvePlaceholders(this.record.config);
      const runner = this.worker.createRunner(
        this.name,
        id,
        this.plugin,
        this.plugin.create(),
        { ...config, ...overlay },
        this.log.child({ task: id }),
        this.redact,
        this.record.config,
      );
      this.runners.set(id, { runner, overlay: JSON.stringify(overlay) });
      runner.start(paused);
      this.log.info({ task: id }, 'task started on this worker');
    }
  }

  async stopTask(id: number): Promise<void> {
    const entry = this.runners.get(id);
    if (!entry) return;
    this.runners.delete(id);
    await entry.runner.stop();
  }

  async restartTasks(onlyFailed: boolean, only?: number): Promise<number[]> {
    const restarted: number[] = [];
    for (const [id, entry] of [...this.runners]) {
      if (only !== undefined && id !== only) continue;
      if (onlyFailed && entry.runner.currentState !== 'FAILED') continue;
      await this.stopTask(id);
      restarted.push(id);
    }
    return restarted;
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.runners.keys()].map((id) => this.stopTask(id)));
    await this.stopConnector();
  }

  get connectorFailed(): boolean {
    return this.connectorState === 'FAILED';
  }

  ownsConnector(): boolean {
    return this.connector !== undefined || this.connectorState === 'FAILED' || this.connectorState === 'STOPPED';
  }

  publishedConnector(): { state: State; worker_id: string; trace?: string } {
    return { state: this.connectorState, worker_id: this.worker.workerId, ...(this.trace ? { trace: this.trace } : {}) };
  }

  publishedTasks(): Map<number, Omit<TaskStatus, 'id'>> {
    const result = new Map<number, Omit<TaskStatus, 'id'>>();
    for (const [id, { runner }] of this.runners) {
      const { id: _id, ...status } = runner.status();
      result.set(id, status);
    }
    return result;
  }

  taskIds(): number[] {
    return [...this.runners.keys()];
  }

  status(): ConnectorStatus {
    return this.statusOf(this);
  }

  startedConnector(): Connector | undefined {
    return this.connector;
  }

  partitionProgress(): (PartitionProgress & { task: number })[] {
    return [...this.runners].flatMap(([task, { runner }]) => runner.partitionProgress().map((p) => ({ ...p, task })));
  }

  requestFlush(task: number): void {
    this.runners.get(task)?.runner.requestFlush();
  }

  committedOffsets() {
    return [...this.runners].flatMap(([task, { runner }]) => runner.committedOffsets().map((o) => ({ connector: this.name, task, ...o })));
  }
}
