import type { RawConfig } from '../api/config-def.js';
import { ColdstoreError, ErrorCodes } from '../api/errors.js';
import type { ConnectorOffsets } from '../herder/connector-offsets.js';
import type { ConnectorInfo } from '../herder/herder-api.js';
import { acceptConfig, patchedConfig, requireStopped, type ConfigPatch } from '../herder/config-changes.js';
import type { PluginRegistry } from '../plugins/registry.js';
import type { ConnectorRecord, TargetState } from '../storage/config-store.js';
import { taskUnit } from './assignor.js';
import type { ClusterLeader } from './cluster-leader.js';
import type { ClusterView } from './cluster-view.js';
import { CONFIG_NAMESPACES } from './config-topic.js';
import type { StatusBoard } from './status-board.js';
import { SerialQueue } from '../support/serial-queue.js';

/** A request the leader writes and every worker acts on once: a restart, or a flush of a connector's open data. */
export interface WorkerRequest {
  seq: number;
  includeTasks?: boolean;
  onlyFailed?: boolean;
  task?: number;
}

/**
 * The changes REST makes to the cluster's desired state, applied on the leader through its
 * fenced writer (REST forwards them there); every worker sees them in the config topic.
 */
export class ClusterWrites {
  /** One write at a time on the leader, each reading the state the previous one left (no lost update, no double create). */
  private readonly queue = new SerialQueue();

  /**
   * Runs a leader write in turn. The leader's writer fenced by a newer instance means a newer
   * leader exists (this one was paused or cut off): NOT_LEADER, which forwarding and callers
   * retry, rather than TASK_FENCED, which is about tasks.
   */
  private async onLeader<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await this.queue.run(write);
    } catch (err) {
      if (err instanceof ColdstoreError && err.code === ErrorCodes.TASK_FENCED) {
        throw new ColdstoreError(
          ErrorCodes.NOT_LEADER,
          'This worker stopped leading the cluster during the write (a newer leader fenced it); retry in a few seconds.',
          {
            cause: err,
          },
        );
      }
      throw err;
    }
  }

  constructor(
    private readonly view: ClusterView,
    private readonly leader: ClusterLeader,
    private readonly statusBoard: StatusBoard,
    private readonly offsets: ConnectorOffsets,
    private readonly plugins: PluginRegistry,
  ) {}

  putConfig(name: string, config: RawConfig, mustNotExist: boolean, initialTarget?: TargetState): Promise<{ created: boolean; info: ConnectorInfo }> {
    return this.onLeader(() => this.applyConfig(name, () => config, mustNotExist, initialTarget));
  }

  /** The patch is merged over the config the leader holds once caught up, so two patches in a row both apply. */
  async patchConfig(name: string, patch: ConfigPatch): Promise<ConnectorInfo> {
    return (await this.onLeader(() => this.applyConfig(name, () => patchedConfig(this.view.record(name).config, patch), false))).info;
  }

  /** The target state is written with the config, so a connector created STOPPED or PAUSED never runs before it is resumed. */
  private async applyConfig(name: string, config: () => RawConfig, mustNotExist: boolean, initialTarget?: TargetState) {
    const writer = await this.leader.writer();
    const accepted = acceptConfig(this.plugins, name, config(), this.view.records()[name], mustNotExist, initialTarget);
    if (accepted === 'unchanged') return { created: false, info: this.view.info(name) };
    const created = !this.view.records()[name];
    const { record } = accepted;
    await writer.write(CONFIG_NAMESPACES.connectors, { [name]: record });
    return { created, info: this.view.info(name) };
  }

  delete(name: string): Promise<void> {
    return this.onLeader(async () => {
      const writer = await this.leader.writer();
      const count = this.view.taskConfigs(name)?.tasks.length ?? 0;
      this.view.record(name);
      await writer.write(CONFIG_NAMESPACES.connectors, { [name]: null });
      await this.statusBoard.forget(name, count);
    });
  }

  setTarget(name: string, target: TargetState): Promise<void> {
    return this.onLeader(async () => {
      const writer = await this.leader.writer();
      const record = this.view.record(name);
      if (record.target !== target) await writer.write(CONFIG_NAMESPACES.connectors, { [name]: { ...record, target } });
    });
  }

  private async request(namespace: string, key: string, request: Omit<WorkerRequest, 'seq'>): Promise<void> {
    const writer = await this.leader.writer();
    const previous = writer.table.get<WorkerRequest>(namespace, key);
    await writer.write(namespace, { [key]: { ...request, seq: (previous?.seq ?? 0) + 1 } });
  }

  restart(name: string, includeTasks: boolean, onlyFailed: boolean): Promise<void> {
    return this.onLeader(async () => {
      this.view.record(name);
      await this.request(CONFIG_NAMESPACES.restarts, name, { includeTasks, onlyFailed });
    });
  }

  restartTask(name: string, id: number): Promise<void> {
    return this.onLeader(async () => {
      const count = this.view.taskConfigs(this.view.record(name).name)?.tasks.length ?? 0;
      if (id >= count) throw new ColdstoreError(ErrorCodes.TASK_NOT_FOUND, `Task ${id} of connector ${name} not found.`);
      await this.request(CONFIG_NAMESPACES.restarts, taskUnit(name, id), { task: id });
    });
  }

  /** Asks every task of the connector, wherever it runs, to make what it consumed durable soon. */
  requestFlush(name: string): Promise<void> {
    return this.onLeader(async () => {
      await this.request(CONFIG_NAMESPACES.flushes, name, {});
    });
  }

  private async requireStopped(name: string): Promise<ConnectorRecord> {
    await this.leader.writer();
    const record = this.view.record(name);
    requireStopped(record, 'offsets');
    return record;
  }

  alterOffsets(name: string, body: unknown): Promise<void> {
    return this.onLeader(async () => {
      const record = await this.requireStopped(name);
      await this.offsets.alter(name, this.view.type(record), body);
    });
  }

  resetOffsets(name: string): Promise<void> {
    return this.onLeader(async () => {
      const record = await this.requireStopped(name);
      await this.offsets.reset(name, this.view.type(record));
    });
  }

  /**
   * Written to the status topic, where the tasks record their topics. The connector must be
   * STOPPED and every task of it seen stopped: tasks on other workers stop after the target
   * changes, and one still stopping could record a topic after the reset.
   */
  resetActiveTopics(name: string): Promise<void> {
    return this.onLeader(async () => {
      await this.leader.writer();
      requireStopped(this.view.record(name), 'topics');
      const running = this.statusBoard.tasksNotStopped(name, this.view.assignment().workers);
      if (running.length > 0) {
        throw new ColdstoreError(
          ErrorCodes.TOPICS_RESET_NOT_STOPPED,
          `Connector ${name} is STOPPED but not all its tasks have stopped yet: ${running.join(', ')}. Retry in a few seconds, once they have.`,
        );
      }
      await this.statusBoard.forgetActiveTopics(name);
    });
  }
}
