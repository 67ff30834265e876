import type { KafkaCluster } from './cluster.js';
import type { ConfigDef, ConfigKeys, RawConfig } from './config-def.js';
import type { MetricSpec } from './metrics.js';
import type { TaskLogger } from './task-logger.js';
import type { SinkTask } from './sink.js';
import type { SourceTask } from './source.js';

export type ConnectorType = 'sink' | 'source';

export interface ConnectorContext {
  /** Name the connector was created with. */
  readonly name: string;
  readonly log: TaskLogger;
  /** The worker's Kafka cluster. */
  readonly cluster: KafkaCluster;
  /**
   * Cluster mode: an instance started on the leader only to answer the product's questions
   * (backups by id) while another worker runs the connector. It must not write or start
   * background work; it runs no tasks.
   */
  readonly observer?: boolean;
}

/**
 * A connector plugin: declares its config and splits the work into task
 * configs. It holds no loops, commits or retries — the runtime does.
 */
export interface Connector<T extends SinkTask | SourceTask = SinkTask | SourceTask> {
  start(config: RawConfig, context: ConnectorContext): Promise<void> | void;
  /** At most maxTasks configs; each becomes one task. */
  taskConfigs(maxTasks: number): RawConfig[];
  stop(): Promise<void> | void;
  createTask(): T;
}

export interface ConnectorPlugin {
  /** Fully qualified name used as `connector.class`. */
  className: string;
  /** Short aliases also accepted as `connector.class` (Kafka Connect accepts the simple class name). */
  aliases?: readonly string[];
  type: ConnectorType;
  version: string;
  config: ConfigDef<ConfigKeys>;
  create(): Connector;
  /** Metrics its tasks record (context.metrics). */
  metrics?: readonly MetricSpec[];
  /**
   * Readiness (GET /ready): checks that what the connector works with besides Kafka (its
   * object store) answers, given the connector's config with placeholders resolved;
   * rejects with what is wrong. The runtime calls it for the connectors this worker runs,
   * at most every few seconds, and aborts `signal` when it waited long enough.
   */
  probe?: (config: RawConfig, signal: AbortSignal) => Promise<void>;
  /** Cross-field checks the per-key declaration cannot express. */
  validateAll?: (config: RawConfig) => { field: string; message: string }[];
}
