import type { RawConfig } from '../api/config-def.js';
import { ColdstoreError, ErrorCodes } from '../api/errors.js';
import { parseTpKey } from '../api/records.js';
import { definitionFor } from '../config/connector-config.js';
import { hasPlaceholder } from '../config/placeholders.js';
import { maskConfig } from '../config/secrets.js';
import type { ConnectorStatus } from '../herder/connector-instance.js';
import type { ConnectorInfo } from '../herder/herder-api.js';
import type { PluginRegistry } from '../plugins/registry.js';
import { namespaces } from '../storage/checkpoint-store.js';
import type { ConnectorRecord } from '../storage/config-store.js';
import type { StateTable } from '../storage/kafka-checkpoint-store.js';
import { storedSinkOffset } from '../worker/sink-offsets.js';
import type { PartitionProgress } from '../worker/task-runner.js';
import type { Assignment } from './assignor.js';
import { connectorRecords, currentAssignment, currentTaskConfigs } from './config-topic.js';
import type { StoredTaskConfigs } from './local-connector.js';
import type { StatusBoard } from './status-board.js';

/** The cluster's state as this worker has read it from the topics: what every worker answers reads from. */
export class ClusterView {
  constructor(
    readonly configs: StateTable,
    readonly offsets: StateTable,
    private readonly statusBoard: StatusBoard,
    private readonly plugins: PluginRegistry,
  ) {}

  assignment(): Assignment {
    return currentAssignment(this.configs);
  }

  records(): Record<string, ConnectorRecord> {
    return connectorRecords(this.configs);
  }

  taskConfigs(name: string): StoredTaskConfigs | undefined {
    return currentTaskConfigs(this.configs, this.offsets, name);
  }

  record(name: string): ConnectorRecord {
    const record = this.records()[name];
    if (!record) throw new ColdstoreError(ErrorCodes.CONNECTOR_NOT_FOUND, `Connector ${name} not found. GET /connectors lists the existing ones.`);
    return record;
  }

  plugin(record: ConnectorRecord) {
    return this.plugins.find(record.config['connector.class'] ?? '');
  }

  type(record: ConnectorRecord): 'sink' | 'source' {
    return this.plugin(record)?.type ?? 'sink';
  }

  taskCount(name: string): number {
    return this.record(name).target === 'STOPPED' ? 0 : (this.taskConfigs(name)?.tasks.length ?? 0);
  }

  names(): string[] {
    return Object.keys(this.records()).sort();
  }

  info(name: string): ConnectorInfo {
    const record = this.record(name);
    const count = this.taskConfigs(name)?.tasks.length ?? 0;
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
    return this.statusBoard.connectorStatus(name, this.type(record), this.taskCount(name), this.assignment());
  }

  /** KIP-558: the topics its tasks recorded in the status topic. */
  activeTopics(name: string): string[] {
    this.record(name);
    return this.statusBoard.activeTopics(name);
  }

  taskStatus(name: string, id: number) {
    const found = this.status(name).tasks[id];
    if (!found) throw new ColdstoreError(ErrorCodes.TASK_NOT_FOUND, `Task ${id} of connector ${name} not found.`);
    return found;
  }

  /** Task configs as the API shows them: placeholders stay placeholders, secrets are hidden. */
  tasks(name: string) {
    const record = this.record(name);
    return (this.taskConfigs(name)?.tasks ?? []).map((overlay, task) => {
      const shown: RawConfig = { ...record.config };
      for (const [key, value] of Object.entries(overlay)) if (!(record.config[key] !== undefined && hasPlaceholder(record.config[key]!))) shown[key] = value;
      return { id: { connector: name, task }, config: this.masked(record, shown) };
    });
  }

  /**
   * A sink connector's committed positions, whichever worker runs its tasks: what the tasks
   * committed is durable (only preCommit's durable offsets are committed).
   */
  committedProgress(name: string): (PartitionProgress & { task: number })[] {
    return Object.entries(this.offsets.entries(namespaces.sinkOffsets(name))).flatMap(([key, value]) => {
      const offset = storedSinkOffset(value);
      return offset === undefined || offset < 0n ? [] : [{ ...parseTpKey(key), committed: offset, durableThrough: offset, task: -1 }];
    });
  }
}
