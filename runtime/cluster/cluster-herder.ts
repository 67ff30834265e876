import type { RawConfig } from '../api/config-def.js';
import type { Connector } from '../api/connector.js';
import { ConnectorOffsets, type OffsetEntry } from '../herder/connector-offsets.js';
import { sameConfig, type ConfigPatch } from '../herder/config-changes.js';
import { validateWithPlugin } from '../herder/herder.js';
import type { ConnectorHandle, HerderApi } from '../herder/herder-api.js';
import type { TransactionalWriter } from '../kafka/transactional-writer.js';
import type { PluginRegistry } from '../plugins/registry.js';
import type { ConnectorRecord, TargetState } from '../storage/config-store.js';
import type { KafkaCheckpointStore } from '../storage/kafka-checkpoint-store.js';
import { SerialQueue } from '../support/serial-queue.js';
import { logLevelsOf } from '../telemetry/log-levels.js';
import type { Worker } from '../worker/worker.js';
import { taskUnit, type Assignment } from './assignor.js';
import type { ClusterLeader } from './cluster-leader.js';
import { ClusterView } from './cluster-view.js';
import { ClusterWrites } from './cluster-writes.js';
import { WorkerRequests } from './worker-requests.js';
import { CONFIG_NAMESPACES, TASK_CONFIGS } from './config-topic.js';
import { LocalConnector } from './local-connector.js';
import { Observers } from './observers.js';
import { FenceGate } from './fence-gate.js';
import { OwnedConnectors } from './owned-connectors.js';
import type { StatusBoard } from './status-board.js';
import { SparseWarning } from '../telemetry/sparse-warning.js';

const RECONCILE_RETRY_MS = 2_000;

export interface ClusterHerderDeps {
  worker: Worker;
  plugins: PluginRegistry;
  /** The config topic (the leader writes it; this worker reads it). */
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
 * the assignment) lives in the topics and is the same for every worker; each worker runs
 * what the assignment gives it. Reads come from this worker's copy (ClusterView), writes
 * are made by the leader (ClusterWrites; REST forwards them there).
 */
export class ClusterHerder implements HerderApi {
  private readonly local = new Map<string, LocalConnector>();
  private readonly queue = new SerialQueue();
  private readonly requests = new WorkerRequests();
  private readonly owned: OwnedConnectors;
  /** Leader only: connector instances started as observers, to answer backups by id. */
  private readonly observers: Observers;
  private reconcileQueued = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private publishQueued = false;
  private readonly gate: FenceGate;
  private publishTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  readonly offsets: ConnectorOffsets;
  readonly plugins: PluginRegistry;
  readonly view: ClusterView;
  private readonly writes: ClusterWrites;

  constructor(private readonly deps: ClusterHerderDeps) {
    this.plugins = deps.plugins;
    this.offsets = new ConnectorOffsets(deps.worker);
    this.view = new ClusterView(deps.configs.table, deps.offsets.table, deps.status, deps.plugins);
    this.writes = new ClusterWrites(this.view, deps.leader, deps.status, this.offsets, deps.plugins);
    this.observers = new Observers(deps.worker);
    this.gate = new FenceGate(deps.worker.log);
    this.owned = new OwnedConnectors(deps.offsets, deps.connectorWriter);
    deps.leader.onLeadershipLost = () => this.observers.dropAll();
  }

  private get me(): string {
    return this.deps.worker.workerId;
  }

  async start(): Promise<void> {
    await this.deps.configs.read(CONFIG_NAMESPACES.restarts);
    this.requests.skipExisting(this.view.configs, [CONFIG_NAMESPACES.restarts, CONFIG_NAMESPACES.flushes]);
    this.view.configs.onChange(() => this.scheduleReconcile());
    this.view.offsets.onChange((namespace) => namespace === TASK_CONFIGS && this.scheduleReconcile());
    this.scheduleReconcile();
    const failures = new SparseWarning(this.deps.worker.log, "publishing this worker's states to the status topic failed; retrying every second");
    this.publishTimer = setInterval(() => {
      if (this.publishQueued) return; // behind a slow reconcile, one queued publish is enough
      this.publishQueued = true;
      void this.queue
        .run(() => this.publish())
        .catch((err: unknown) => failures.report(err))
        .finally(() => (this.publishQueued = false));
    }, 1_000);
  }

  /** Stops every local task and connector (each flushes and commits); the worker leaves the group after. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.publishTimer);
    clearTimeout(this.retryTimer);
    await this.queue.run(async () => {
      await this.dropLocal();
      await this.publish().catch(() => undefined);
    });
    this.observers.dropAll();
  }

  private async dropLocal(): Promise<void> {
    await Promise.all([...this.local.values()].map((l) => l.shutdown()));
    await this.owned.releaseAll();
  }

  /**
   * The group went on without this worker: stop everything at once, and run nothing
   * until the leader has written an assignment made after this (the current one is
   * stale: its tasks may already run elsewhere).
   */
  fenced(stillMember: () => Promise<boolean>, graceMs: number): void {
    this.gate.close(
      () => this.view.assignment().generation,
      stillMember,
      graceMs,
      () => this.scheduleReconcile(),
    );
    void this.queue
      .run(async () => {
        await this.dropLocal();
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
        if (!this.stopped && !(await this.reconcile())) this.retryReconcile();
      })
      .catch((err: unknown) => {
        this.deps.worker.log.error({ err }, 'applying the cluster assignment failed; retrying');
        this.retryReconcile();
      })
      .finally(() => this.deps.leader.scheduleRebalance());
  }

  /** Nothing else may come to trigger a reconcile (a quiet cluster): try again soon. */
  private retryReconcile(): void {
    if (this.retryTimer || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.scheduleReconcile();
    }, RECONCILE_RETRY_MS);
  }

  /** Applies the desired state to every connector; false if one of them failed (the others are applied regardless). */
  private async reconcile(): Promise<boolean> {
    const records = this.view.records();
    const current = this.view.assignment();
    const assignment = this.gate.admits(current.generation) ? current : { ...current, connectors: {}, tasks: {} };
    let allApplied = true;
    for (const name of new Set([...this.local.keys(), ...Object.keys(records)])) {
      try {
        await this.reconcileConnector(name, records[name], assignment);
      } catch (err) {
        allApplied = false;
        this.deps.worker.log.warn({ err, connector: name }, 'applying the assignment to a connector failed; retrying');
      }
    }
    await this.publish();
    return allApplied;
  }

  private async reconcileConnector(name: string, record: ConnectorRecord | undefined, assignment: Assignment): Promise<void> {
    let local = this.local.get(name);
    if (local && (!record || !sameConfig(local.record.config, record.config))) {
      await local.shutdown();
      this.local.delete(name);
      local = undefined;
    }
    if (!record) {
      await this.owned.release(name);
      this.observers.drop(name);
      logLevelsOf(this.deps.worker.log).forgetConnector(name);
      return;
    }
    const plugin = this.view.plugin(record);
    if (!plugin) {
      this.deps.worker.log.error({ connector: name }, 'connector has no installed plugin on this worker; it is not run here');
      return;
    }
    local ??= new LocalConnector(record, plugin, this.deps.worker, (l) => this.view.status(l.name));
    local.record = record;
    this.local.set(name, local);
    await this.applyRequests(local);
    await this.owned.apply(local, assignment.connectors[name] === this.me);
    const stored = this.view.taskConfigs(name);
    const mine = new Map<number, RawConfig>();
    if (stored && record.target !== 'STOPPED') {
      stored.tasks.forEach((overlay, id) => {
        if (assignment.tasks[taskUnit(name, id)] === this.me) mine.set(id, overlay);
      });
    }
    await local.applyTasks(mine);
  }

  private async applyRequests(local: LocalConnector): Promise<void> {
    for (const request of this.requests.fresh(this.view.configs, CONFIG_NAMESPACES.restarts, local.name)) {
      if (request.task !== undefined) {
        await local.restartTasks(false, request.task);
        continue;
      }
      if (!request.onlyFailed || local.connectorFailed) await local.restartConnector();
      if (request.includeTasks) await local.restartTasks(request.onlyFailed ?? false);
    }
    if (this.requests.fresh(this.view.configs, CONFIG_NAMESPACES.flushes, local.name).length > 0) for (const id of local.taskIds()) local.requestFlush(id);
  }

  private async publish(): Promise<void> {
    const assignment = this.view.assignment();
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
    const assignment = this.view.assignment();
    const mine = (units: Record<string, string>) => Object.values(units).filter((w) => w === this.me).length;
    return {
      leader: this.deps.leader.isLeader,
      generation: assignment.generation,
      connectors: mine(assignment.connectors),
      tasks: mine(assignment.tasks),
      fenced: !this.gate.admits(assignment.generation),
    };
  }

  isLeader(): boolean {
    return this.deps.leader.isLeader;
  }

  // ---- the product's view of a connector (backups by id run on the leader) ----

  find(name: string): ConnectorHandle | undefined {
    const record = this.view.records()[name];
    if (!record) return undefined;
    return {
      record,
      status: () => this.view.status(name),
      startedConnector: () => this.local.get(name)?.startedConnector(),
      partitionProgress: () => this.view.committedProgress(name),
      requestFlush: () =>
        void this.writes.requestFlush(name).catch((err: unknown) => this.deps.worker.log.warn({ err, connector: name }, 'asking for a flush failed')),
    };
  }

  /** The connector's started instance here, or on the leader an observer instance of it. */
  async observe(name: string): Promise<Connector | undefined> {
    const started = this.local.get(name)?.startedConnector();
    if (started) return started;
    const record = this.view.records()[name];
    const plugin = record && this.view.plugin(record);
    return record && plugin && this.isLeader() ? this.observers.get(record, plugin) : undefined;
  }
  // ---- reads: the same on every worker ----

  names = () => this.view.names();
  info = (name: string) => this.view.info(name);
  status = (name: string) => this.view.status(name);
  taskStatus = (name: string, id: number) => this.view.taskStatus(name, id);
  tasks = (name: string) => this.view.tasks(name);
  validate = (pluginName: string, config: RawConfig) => validateWithPlugin(this.plugins, pluginName, config);
  committedOffsets = () => [...this.local.values()].flatMap((l) => l.committedOffsets());
  activeTopics = async (name: string) => this.view.activeTopics(name);

  getOffsets(name: string): Promise<{ offsets: OffsetEntry[] }> {
    return this.offsets.read(name, this.view.type(this.view.record(name)));
  }

  // ---- writes: on the leader ----

  putConfig = (name: string, config: RawConfig, mustNotExist: boolean, initialTarget?: TargetState) =>
    this.writes.putConfig(name, config, mustNotExist, initialTarget);
  patchConfig = (name: string, patch: ConfigPatch) => this.writes.patchConfig(name, patch);
  resetActiveTopics = (name: string) => this.writes.resetActiveTopics(name);
  delete = (name: string) => this.writes.delete(name);
  setTarget = (name: string, target: TargetState) => this.writes.setTarget(name, target);
  restart = (name: string, includeTasks: boolean, onlyFailed: boolean) => this.writes.restart(name, includeTasks, onlyFailed);
  restartTask = (name: string, id: number) => this.writes.restartTask(name, id);
  alterOffsets = (name: string, body: unknown) => this.writes.alterOffsets(name, body);
  resetOffsets = (name: string) => this.writes.resetOffsets(name);
}
