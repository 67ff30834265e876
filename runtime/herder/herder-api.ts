import type { RawConfig } from '../api/config-def.js';
import type { Connector } from '../api/connector.js';
import type { PluginRegistry } from '../plugins/registry.js';
import type { ConnectorRecord, TargetState } from '../storage/config-store.js';
import type { PartitionProgress } from '../worker/task-runner.js';
import type { TaskStatus } from '../worker/task-status.js';
import type { ConnectorStatus } from './connector-instance.js';
import type { ConfigInfosResult } from '../config/connector-config.js';
import type { OffsetEntry } from './connector-offsets.js';
import type { ConfigPatch } from './config-changes.js';

export interface ConnectorInfo {
  name: string;
  config: RawConfig;
  tasks: { connector: string; task: number }[];
  type: 'sink' | 'source';
}

/** What the product sees of a connector running (partly) on this worker: its started instance and local tasks. */
export interface ConnectorHandle {
  readonly record: ConnectorRecord;
  status(): ConnectorStatus;
  startedConnector(): Connector | undefined;
  partitionProgress(): (PartitionProgress & { task: number })[];
  requestFlush(task: number): void;
}

/** The herder as the REST API and the product use it: standalone (Herder) or cluster (ClusterHerder). */
export interface HerderApi {
  readonly plugins: PluginRegistry;
  start(): Promise<void>;
  stop(): Promise<void>;
  names(): string[];
  info(name: string): ConnectorInfo;
  status(name: string): ConnectorStatus;
  taskStatus(name: string, id: number): TaskStatus;
  tasks(name: string): { id: { connector: string; task: number }; config: RawConfig }[];
  validate(pluginName: string, config: RawConfig): ConfigInfosResult;
  /** Creates or replaces a config; a connector created here starts in `initialTarget` (KIP-980; default RUNNING). */
  putConfig(name: string, config: RawConfig, mustNotExist: boolean, initialTarget?: TargetState): Promise<{ created: boolean; info: ConnectorInfo }>;
  /** KIP-477: the patch merged over the stored config (placeholders and secrets as stored), checked like putConfig. */
  patchConfig(name: string, patch: ConfigPatch): Promise<ConnectorInfo>;
  /** KIP-558: the topics the connector's tasks used since its set was last reset, sorted. */
  activeTopics(name: string): Promise<string[]>;
  /** Forgets the active topics; only while the connector is STOPPED. */
  resetActiveTopics(name: string): Promise<void>;
  delete(name: string): Promise<void>;
  setTarget(name: string, target: TargetState): Promise<void>;
  restart(name: string, includeTasks: boolean, onlyFailed: boolean): Promise<void>;
  restartTask(name: string, id: number): Promise<void>;
  getOffsets(name: string): Promise<{ offsets: OffsetEntry[] }>;
  alterOffsets(name: string, body: unknown): Promise<void>;
  resetOffsets(name: string): Promise<void>;
  committedOffsets(): { connector: string; task: number; topic: string; partition: number; offset: bigint; highWatermark?: bigint }[];
  find(name: string): ConnectorHandle | undefined;
  /**
   * The connector's started instance, for the product's own hooks (backups by id): the one
   * running here, or in cluster mode on the leader an observer instance of it.
   */
  observe(name: string): Promise<Connector | undefined>;
}
