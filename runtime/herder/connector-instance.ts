import type { RawConfig } from '../api/config-def.js';
import type { Connector, ConnectorPlugin } from '../api/connector.js';
import { describeError } from '../api/errors.js';
import { definitionFor } from '../config/connector-config.js';
import { createRedactor, hasPlaceholder, resolvePlaceholders } from '../config/placeholders.js';
import { logUnknownKeys } from '../config/connect-keys.js';
import { maskConfig } from '../config/secrets.js';
import type { ConnectorRecord } from '../storage/config-store.js';
import { redactingLogger, type Logger } from '../telemetry/logger.js';
import type { PartitionProgress, TaskRunner } from '../worker/task-runner.js';
import type { State, TaskStatus } from '../worker/task-status.js';
import { taskLogger } from '../worker/task-context.js';
import type { Worker } from '../worker/worker.js';

export interface ConnectorStatus {
  name: string;
  connector: { state: State; worker_id: string; trace?: string };
  tasks: TaskStatus[];
  type: 'sink' | 'source';
}

/**
 * The observed side of one connector: its plugin instance and task runners.
 * `apply` moves it to the desired target state; it never changes the desired state.
 */
export class ConnectorInstance {
  private connector: Connector | undefined;
  private runners: TaskRunner[] = [];
  private taskConfigs: RawConfig[] = [];
  private state: State = 'UNASSIGNED';
  private trace: string | undefined;
  /** Hides what the config's placeholders resolve to from traces and log lines. */
  private readonly redact: (text: string) => string;
  private readonly log: Logger;

  constructor(
    public record: ConnectorRecord,
    readonly plugin: ConnectorPlugin,
    private readonly worker: Worker,
  ) {
    this.redact = createRedactor(record.config);
    this.log = redactingLogger(worker.log.child({ connector: record.name }), this.redact);
  }

  get name(): string {
    return this.record.name;
  }

  async apply(): Promise<void> {
    const target = this.record.target;
    if (target === 'STOPPED') {
      await this.shutdown();
      this.state = 'STOPPED';
      return;
    }
    if (!this.connector && this.state !== 'FAILED') await this.startConnector();
    if (this.state === 'FAILED') return;
    for (const runner of this.runners) {
      if (target === 'PAUSED') runner.pause();
      else runner.resume();
    }
    this.state = target;
  }

  private async startConnector(): Promise<void> {
    const connector = await this.startInstance();
    if (!connector) return;
    this.runners = this.taskConfigs.map((tc, id) => this.createRunner(id, connector, tc));
    const paused = this.record.target === 'PAUSED';
    this.runners.forEach((r) => r.start(paused));
    this.log.info({ tasks: this.runners.length, config: this.maskedConfig() }, 'connector started');
  }

  /** Starts the plugin's connector with the resolved config and computes task configs; undefined if it failed. */
  private async startInstance(): Promise<Connector | undefined> {
    const { config } = resolvePlaceholders(this.record.config);
    logUnknownKeys(this.log, this.plugin, definitionFor(this.plugin), this.record.config);
    const connector = this.plugin.create();
    try {
      await connector.start(config, {
        name: this.name,
        log: taskLogger(this.log),
        cluster: this.worker.cluster,
      });
      const maxTasks = Number(config['tasks.max'] ?? '1');
      this.taskConfigs = connector
        .taskConfigs(maxTasks)
        .slice(0, maxTasks)
        .map((tc) => ({ ...config, ...tc }));
    } catch (err) {
      this.failConnector(err);
      return undefined;
    }
    this.connector = connector;
    this.trace = undefined;
    return connector;
  }

  private createRunner(id: number, connector: Connector, config: RawConfig): TaskRunner {
    return this.worker.createRunner(this.name, id, this.plugin, connector, config, this.log.child({ task: id }), this.redact, this.record.config);
  }

  private failConnector(err: unknown): void {
    this.state = 'FAILED';
    this.trace = this.redact(describeError(err));
    this.log.error({ err }, 'connector failed; fix its config or cause and restart it');
  }

  /** Stops every task (each flushes and commits) and the connector instance. */
  async shutdown(): Promise<void> {
    const runners = this.runners;
    this.runners = [];
    await Promise.all(runners.map((r) => r.stop()));
    const connector = this.connector;
    this.connector = undefined;
    this.taskConfigs = [];
    if (connector) {
      try {
        await connector.stop();
      } catch (err) {
        this.log.warn({ err }, 'connector stop failed');
      }
    }
    if (this.state !== 'FAILED') this.state = 'UNASSIGNED';
  }

  /** Restarts the connector instance and, if asked, its tasks; `onlyFailed` limits both to failed ones. */
  async restart(includeTasks: boolean, onlyFailed: boolean): Promise<void> {
    const connectorFailed = this.state === 'FAILED';
    if (onlyFailed && !connectorFailed) {
      if (includeTasks) {
        for (const runner of [...this.runners]) if (runner.currentState === 'FAILED') await this.restartTask(runner.status().id);
      }
      return;
    }
    if (includeTasks || connectorFailed || !this.connector) {
      await this.shutdown();
      this.state = 'UNASSIGNED';
      await this.apply();
      return;
    }
    // The connector instance only: its tasks keep running with their configs.
    const runners = this.runners;
    const taskConfigs = this.taskConfigs;
    await this.connector.stop();
    this.connector = undefined;
    if (await this.startInstance()) {
      this.runners = runners;
      this.taskConfigs = taskConfigs;
    }
  }

  async restartTask(id: number): Promise<void> {
    const old = this.runners[id];
    const config = this.taskConfigs[id];
    if (!old || !config || !this.connector) return;
    await old.stop();
    const runner = this.createRunner(id, this.connector, config);
    this.runners[id] = runner;
    runner.start(this.record.target === 'PAUSED');
  }

  hasTask(id: number): boolean {
    return id >= 0 && id < this.runners.length;
  }

  status(): ConnectorStatus {
    return {
      name: this.name,
      connector: { state: this.state, worker_id: this.worker.workerId, ...(this.trace ? { trace: this.trace } : {}) },
      tasks: this.runners.map((r) => r.status()),
      type: this.plugin.type,
    };
  }

  /**
   * The plugin's connector instance while it is started, as the plugin made it: the product
   * finds its own hooks on it (backups by id), which the runtime does not know.
   */
  startedConnector(): Connector | undefined {
    return this.connector;
  }

  /** Per partition of every sink task: how far it is handed over and durable, and which task has it. */
  partitionProgress(): (PartitionProgress & { task: number })[] {
    return this.runners.flatMap((runner, task) => runner.partitionProgress().map((p) => ({ ...p, task })));
  }

  requestFlush(task: number): void {
    this.runners[task]?.requestFlush();
  }

  committedOffsets() {
    return this.runners.flatMap((runner, task) => runner.committedOffsets().map((o) => ({ connector: this.name, task, ...o })));
  }

  taskStatus(id: number): TaskStatus | undefined {
    return this.runners[id]?.status();
  }

  maskedConfig(): RawConfig {
    return maskConfig(this.record.config, (key) => definitionFor(this.plugin).isSecret(key));
  }

  /** Task configs as shown by the API: values that came from placeholders show the placeholder, secrets are hidden. */
  maskedTaskConfigs(): RawConfig[] {
    const definition = definitionFor(this.plugin);
    return this.taskConfigs.map((tc) => {
      const shown: RawConfig = {};
      for (const [key, value] of Object.entries(tc)) {
        const raw = this.record.config[key];
        shown[key] = raw !== undefined && hasPlaceholder(raw) ? raw : value;
      }
      return maskConfig(shown, (key) => definition.isSecret(key));
    });
  }
}
