import type { RawConfig } from '../api/config-def.js';
import { ColdstoreError, ConfigError, ErrorCodes } from '../api/errors.js';
import { validateConnectorConfig } from '../config/connector-config.js';
import { definitionFor } from '../config/connector-config.js';
import { hasPlaceholder } from '../config/placeholders.js';
import { maskConfig } from '../config/secrets.js';
import type { ConnectorStatus } from '../herder/connector-instance.js';
import { ConnectorOffsets, type OffsetEntry } from '../herder/connector-offsets.js';
import { sameConfig, validateWithPlugin } from '../herder/herder.js';
import type { ConnectorHandle, ConnectorInfo, HerderApi } from '../herder/herder-api.js';
import type { PluginRegistry } from '../plugins/registry.js';
import type { ConnectorRecord, TargetState } from '../storage/config-store.js';
import type { KafkaCheckpointStore } from '../storage/kafka-checkpoint-store.js';
import { SerialQueue } from '../support/serial-queue.js';
import type { Worker } from '../worker/worker.js';
import { taskUnit, type Assignment } from './assignor.js';
import { CONFIG_NAMESPACES, connectorRecords, currentAssignment, currentTaskConfigs, TASK_CONFIGS } from './config-topic.js';
import type { TransactionalWriter } from '../kafka/transactional-writer.js';
import type { ClusterLeader } from './cluster-leader.js';
import { LocalConnector, type StoredTaskConfigs } from './local-connector.js';
import type { StatusBoard } from './status-board.js';

interface RestartRequest {
  seq: number;
  includeTasks: boolean;
  onlyFailed: boolean;
  task?: number;
}

export interface ClusterHerderDeps {
  worker: Worker;
  plugins: PluginRegistry;
  /** The config topic, written through this worker's own transactional writer. */
  configs: KafkaCheckpointStore;
  /** The offsets topic (task configs live there). */
  offsets: KafkaCheckpointStore;
  /** The writer of a connector's task configs, fenced by the connector's next owner. */
  connectorWriter: (connector: string) => TransactionalWriter;
  status: StatusBoard;
  leader: ClusterLeader;
}

/**
 * The cluster herder: the desired state (connector configs, target states, task configs,
 * the assignment) lives in the config topic and is the same for every worker; each worker
 * runs what the assignment gives it. Writes are made by the leader (REST forwards them
 * there) and reach every worker through the topic.
 */
export class ClusterHerder implements HerderApi {
  private readonly local = new Map<string, LocalConnector>();
  private readonly queue = new SerialQueue();
  private readonly seenRestarts = new Map<string, number>();
  private readonly connectorStores = new Map<string, KafkaCheckpointStore>();
  private reconcileQueued = false;
  /** Assignments older than this are stale for this worker (it was fenced since). */
  private minGeneration = 0;
  private publishTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  readonly offsets: ConnectorOffsets;
  readonly plugins: PluginRegistry;

  constructor(private readonly deps: ClusterHerderDeps) {
    this.plugins = deps.plugins;
    this.offsets = new ConnectorOffsets(deps.worker);
  }

  private get table() {
    return this.deps.configs.table;
  }

  private get me(): string {
    return this.deps.worker.workerId;
  }

  assignment(): Assignment {
    return currentAssignment(this.table);
  }

  private records(): Record<string, ConnectorRecord> {
    return connectorRecords(this.table);
  }

  private storedTaskConfigs(name: string): StoredTaskConfigs | undefined {
    return currentTaskConfigs(this.table, this.deps.offsets.table, name);
  }

  private plugin(record: ConnectorRecord) {
    return this.plugins.find(record.config['connector.class'] ?? '');
  }

  async start(): Promise<void> {
    await this.deps.configs.read(CONFIG_NAMESPACES.restarts);
    for (const [key, request] of Object.entries(this.table.entries(CONFIG_NAMESPACES.restarts) as Record<string, RestartRequest>)) {
      this.seenRestarts.set(key, request.seq);
    }
    this.table.onChange(() => this.scheduleReconcile());
    this.deps.offsets.table.onChange((namespace) => namespace === TASK_CONFIGS && this.scheduleReconcile());
    this.scheduleReconcile();
    this.publishTimer = setInterval(() => void this.queue.run(() => this.publish()).catch(() => undefined), 1_000);
  }

  /** Stops every local task and connector (each flushes and commits); the worker leaves the group after. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.publishTimer);
    await this.queue.run(async () => {
      await Promise.all([...this.local.values()].map((l) => l.shutdown()));
      await Promise.all([...this.connectorStores.keys()].map((name) => this.releaseConnectorWriter(name)));
      await this.publish().catch(() => undefined);
    });
  }

  /**
   * The group went on without this worker: stop everything at once, and run nothing
   * until the leader has written an assignment made after this (the current one is
   * stale: its tasks may already run elsewhere).
   */
  fenced(): void {
    this.minGeneration = this.assignment().generation + 1;
    void this.queue
      .run(async () => {
        await Promise.all([...this.local.values()].map((l) => l.shutdown()));
        await Promise.all([...this.connectorStores.keys()].map((name) => this.releaseConnectorWriter(name)));
        this.local.clear();
      })
      .catch((err: unknown) => this.deps.worker.log.warn({ err }, 'stopping fenced tasks failed'));
  }

  scheduleReconcile(): void {
    if (this.reconcileQueued || this.stopped) return;
    this.reconcileQueued = true;
    void this.queue
      .run(async () => {
        this.reconcileQueued = false;
        if (!this.stopped) await this.reconcile();
      })
      .catch((err: unknown) => this.deps.worker.log.error({ err }, 'applying the cluster assignment failed; retrying'))
      .finally(() => this.deps.leader.scheduleRebalance());
  }

  private async reconcile(): Promise<void> {
    const records = this.records();
    const current = this.assignment();
    const assignment = current.generation >= this.minGeneration ? current : { ...current, connectors: {}, tasks: {} };
    for (const name of new Set([...this.local.keys(), ...Object.keys(records)])) {
      const record = records[name];
      let local = this.local.get(name);
      if (local && (!record || !sameConfig(local.record.config, record.config))) {
        await local.shutdown();
        this.local.delete(name);
        local = undefined;
      }
      if (!record) {
        await this.releaseConnectorWriter(name);
        continue;
      }
      const plugin = this.plugin(record);
      if (!plugin) {
        this.deps.worker.log.error({ connector: name }, 'connector has no installed plugin on this worker; it is not run here');
        continue;
      }
      local ??= new LocalConnector(record, plugin, this.deps.worker, (l) => this.status(l.name));
      local.record = record;
      this.local.set(name, local);
      await this.applyRestarts(local);
      await this.applyConnectorRole(local, assignment.connectors[name] === this.me);
      const stored = this.storedTaskConfigs(name);
      const mine = new Map<number, RawConfig>();
      if (stored && record.target !== 'STOPPED') {
        stored.tasks.forEach((overlay, id) => {
          if (assignment.tasks[taskUnit(name, id)] === this.me) mine.set(id, overlay);
        });
      }
      await local.applyTasks(mine);
    }
    await this.publish();
  }

  private async applyConnectorRole(local: LocalConnector, owner: boolean): Promise<void> {
    if (!owner) {
      await local.stopConnector();
      await this.releaseConnectorWriter(local.name);
      return;
    }
    let store = this.connectorStores.get(local.name);
    if (!store) {
      store = this.deps.offsets.withWriter(this.deps.connectorWriter(local.name));
      this.connectorStores.set(local.name, store);
      // Fences the connector's previous owner before its task configs are read and written.
      await store.read(TASK_CONFIGS);
    }
    const computed = await local.runConnector();
    if (!computed) return;
    const stored = store.table.get<StoredTaskConfigs>(TASK_CONFIGS, local.name);
    if (!stored || JSON.stringify(stored) !== JSON.stringify(computed)) await store.write(TASK_CONFIGS, { [local.name]: computed });
  }

  private async releaseConnectorWriter(name: string): Promise<void> {
    const store = this.connectorStores.get(name);
    this.connectorStores.delete(name);
    await store?.close().catch(() => undefined);
  }

  private async applyRestarts(local: LocalConnector): Promise<void> {
    const requests = this.table.entries(CONFIG_NAMESPACES.restarts) as Record<string, RestartRequest>;
    for (const [key, request] of Object.entries(requests)) {
      if (key !== local.name && !key.startsWith(`${local.name}/`)) continue;
      if ((this.seenRestarts.get(key) ?? 0) >= request.seq) continue;
      this.seenRestarts.set(key, request.seq);
      if (request.task !== undefined) {
        await local.restartTasks(false, request.task);
        continue;
      }
      const restartConnector = !request.onlyFailed || local.connectorFailed;
      if (restartConnector) await local.restartConnector();
      if (request.includeTasks) await local.restartTasks(request.onlyFailed);
    }
  }

  private async publish(): Promise<void> {
    const assignment = this.assignment();
    const connectors = new Map<string, ReturnType<LocalConnector['publishedConnector']>>();
    const tasks = new Map<string, ReturnType<LocalConnector['publishedTasks']> extends Map<number, infer T> ? T : never>();
    for (const [name, local] of this.local) {
      if (assignment.connectors[name] === this.me) connectors.set(name, local.publishedConnector());
      for (const [id, status] of local.publishedTasks()) tasks.set(taskUnit(name, id), status);
    }
    await this.deps.status.publish(connectors, tasks);
  }

  /** This worker's role and share of the current assignment, for the metrics. */
  clusterSample() {
    const assignment = this.assignment();
    const mine = (units: Record<string, string>) => Object.values(units).filter((w) => w === this.me).length;
    return { leader: this.deps.leader.isLeader, generation: assignment.generation, connectors: mine(assignment.connectors), tasks: mine(assignment.tasks) };
  }

  // ---- reads: the same on every worker ----

  names(): string[] {
    return Object.keys(this.records()).sort();
  }

  private record(name: string): ConnectorRecord {
    const record = this.records()[name];
    if (!record) throw new ColdstoreError(ErrorCodes.CONNECTOR_NOT_FOUND, `Connector ${name} not found. GET /connectors lists the existing ones.`);
    return record;
  }

  private type(record: ConnectorRecord): 'sink' | 'source' {
    return this.plugin(record)?.type ?? 'sink';
  }

  info(name: string): ConnectorInfo {
    const record = this.record(name);
    const count = this.storedTaskConfigs(name)?.tasks.length ?? 0;
    return {
      name,
      config: this.masked(record, record.config),
      tasks: Array.from({ length: count }, (_, task) => ({ connector: name, task })),
      type: this.type(record),
    };
  }

  private masked(record: ConnectorRecord, config: RawConfig): RawConfig {
    const plugin = this.plugin(record);
    return plugin ? maskConfig(config, (key) => definitionFor(plugin).isSecret(key)) : config;
  }

  status(name: string): ConnectorStatus {
    const record = this.record(name);
    const count = record.target === 'STOPPED' ? 0 : (this.storedTaskConfigs(name)?.tasks.length ?? 0);
    return this.deps.status.connectorStatus(name, this.type(record), count, this.assignment());
  }

  taskStatus(name: string, id: number) {
    const found = this.status(name).tasks[id];
    if (!found) throw new ColdstoreError(ErrorCodes.TASK_NOT_FOUND, `Task ${id} of connector ${name} not found.`);
    return found;
  }

  tasks(name: string) {
    const record = this.record(name);
    return (this.storedTaskConfigs(name)?.tasks ?? []).map((overlay, task) => {
      const shown: RawConfig = { ...record.config };
      for (const [key, value] of Object.entries(overlay)) if (!(record.config[key] !== undefined && hasPlaceholder(record.config[key]!))) shown[key] = value;
      return { id: { connector: name, task }, config: this.masked(record, shown) };
    });
  }

  validate(pluginName: string, config: RawConfig) {
    return validateWithPlugin(this.plugins, pluginName, config);
  }

  find(name: string): ConnectorHandle | undefined {
    return this.local.get(name);
  }

  committedOffsets() {
    return [...this.local.values()].flatMap((l) => l.committedOffsets());
  }

  getOffsets(name: string): Promise<{ offsets: OffsetEntry[] }> {
    return this.offsets.read(name, this.type(this.record(name)));
  }

  // ---- writes: made on the leader, through its fenced writer ----

  async putConfig(name: string, config: RawConfig, mustNotExist: boolean): Promise<{ created: boolean; info: ConnectorInfo }> {
    const writer = await this.deps.leader.writer();
    const existing = this.records()[name];
    if (existing && mustNotExist)
      throw new ColdstoreError(ErrorCodes.CONNECTOR_EXISTS, `Connector ${name} already exists. Use PUT /connectors/${name}/config to change it.`);
    if (config['name'] !== undefined && config['name'] !== name) {
      throw new ConfigError([{ field: 'name', message: `must match the connector name in the path ("${name}")` }], 'connector config');
    }
    const full = { ...config, name };
    if (existing && sameConfig(existing.config, full)) return { created: false, info: this.info(name) };
    const validation = validateConnectorConfig(this.plugins, full);
    if (validation.errors.length > 0 || !validation.plugin) throw new ConfigError(validation.errors, `connector config for ${name}`);
    await writer.write(CONFIG_NAMESPACES.connectors, { [name]: { name, config: full, target: existing?.target ?? 'RUNNING' } });
    return { created: !existing, info: this.info(name) };
  }

  async delete(name: string): Promise<void> {
    const writer = await this.deps.leader.writer();
    const count = this.storedTaskConfigs(name)?.tasks.length ?? 0;
    this.record(name);
    await writer.write(CONFIG_NAMESPACES.connectors, { [name]: null });
    await this.deps.status.forget(name, count);
  }

  async setTarget(name: string, target: TargetState): Promise<void> {
    const writer = await this.deps.leader.writer();
    const record = this.record(name);
    if (record.target !== target) await writer.write(CONFIG_NAMESPACES.connectors, { [name]: { ...record, target } });
  }

  private async requestRestart(key: string, request: Omit<RestartRequest, 'seq'>): Promise<void> {
    const writer = await this.deps.leader.writer();
    const previous = this.table.get<RestartRequest>(CONFIG_NAMESPACES.restarts, key);
    await writer.write(CONFIG_NAMESPACES.restarts, { [key]: { ...request, seq: (previous?.seq ?? 0) + 1 } });
  }

  async restart(name: string, includeTasks: boolean, onlyFailed: boolean): Promise<void> {
    this.record(name);
    await this.requestRestart(name, { includeTasks, onlyFailed });
  }

  async restartTask(name: string, id: number): Promise<void> {
    const count = this.storedTaskConfigs(this.record(name).name)?.tasks.length ?? 0;
    if (id >= count) throw new ColdstoreError(ErrorCodes.TASK_NOT_FOUND, `Task ${id} of connector ${name} not found.`);
    await this.requestRestart(taskUnit(name, id), { includeTasks: true, onlyFailed: false, task: id });
  }

  private async requireStopped(name: string): Promise<ConnectorRecord> {
    await this.deps.leader.writer();
    const record = this.record(name);
    if (record.target !== 'STOPPED') {
      throw new ColdstoreError(
        ErrorCodes.CONNECTOR_NOT_STOPPED,
        `Connector ${name} must be in the STOPPED state before its offsets can be changed: PUT /connectors/${name}/stop first.`,
      );
    }
    return record;
  }

  async alterOffsets(name: string, body: unknown): Promise<void> {
    const record = await this.requireStopped(name);
    await this.offsets.alter(name, this.type(record), body);
  }

  async resetOffsets(name: string): Promise<void> {
    const record = await this.requireStopped(name);
    await this.offsets.reset(name, this.type(record));
  }
}
