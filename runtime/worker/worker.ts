import type { RawConfig } from '../api/config-def.js';
import type { Connector, ConnectorPlugin } from '../api/connector.js';
import type { SinkTask } from '../api/sink.js';
import type { SourceTask } from '../api/source.js';
import { KafkaAdmin } from '../kafka/admin.js';
import { KafkaProducer } from '../kafka/producer.js';
import { SinkConsumer } from '../kafka/sink-consumer.js';
import type { KafkaConnection } from '../kafka/client-config.js';
import { withPrefix } from '../config/raw-config.js';
import type { WorkerConfig } from '../config/worker-config.js';
import { namespaces, type CheckpointStore } from '../storage/checkpoint-store.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { ActiveTopics } from './active-topics.js';
import { SinkBufferLedger } from './sink-buffer-ledger.js';
import { SinkTaskRunner } from './sink-runner.js';
import { readConnectorOffsets, type OffsetsTopic } from './source-delivery.js';
import { taskStateStore } from './task-context.js';
import { SourceTaskRunner } from './source-runner.js';
import type { TaskRunner } from './task-runner.js';

/** The checkpoint store one task writes through, and what to release when the task ends. */
export interface TaskStore {
  store: CheckpointStore;
  release(): Promise<void>;
}

/** What every task of this worker shares: Kafka connection, checkpoint store, telemetry. */
export class Worker {
  readonly kafka: KafkaConnection;
  private admin: KafkaAdmin | undefined;
  /**
   * Cluster mode: each task writes its state through a store of its own, so that the
   * task's next owner fences this one. Standalone: every task writes the worker's store.
   */
  taskStores: ((connector: string, task: number) => TaskStore) | undefined;
  /**
   * Where tasks record the topics they use: the worker's store standalone; in cluster mode
   * the status topic, which every worker writes for what it runs (Kafka Connect keeps them there too).
   */
  activeTopicsStore: CheckpointStore;
  /** Bytes every sink task of this worker holds in open buffers, against sink.buffer.max.bytes. */
  readonly bufferLedger: SinkBufferLedger;

  constructor(
    readonly config: WorkerConfig,
    public workerId: string,
    readonly store: CheckpointStore,
    readonly metrics: Metrics,
    readonly log: Logger,
  ) {
    this.kafka = { bootstrapServers: config['bootstrap.servers'], extra: config.kafka };
    this.activeTopicsStore = store;
    this.bufferLedger = new SinkBufferLedger(config['sink.buffer.max.bytes']);
  }

  /** Cluster operations shared by connectors and tasks; connects on first use. */
  get cluster(): KafkaAdmin {
    this.admin ??= new KafkaAdmin(this.kafka, `coldstore-${this.workerId}-admin`);
    return this.admin;
  }

  close(): void {
    this.admin?.disconnect();
    this.admin = undefined;
  }

  private offsetsTopic(connector: string): OffsetsTopic {
    const name = this.config['offset.storage.topic'];
    const cluster = this.cluster;
    return { name, readOffsets: (clientId, after) => readConnectorOffsets(this.kafka, cluster, name, connector, clientId, after) };
  }

  /**
   * A runner for one task; `taskConfig` is resolved (placeholders replaced) and never
   * stored, and `redact` hides those resolved values from the task's traces.
   */
  createRunner(
    connectorName: string,
    taskId: number,
    plugin: ConnectorPlugin,
    connector: Connector,
    taskConfig: RawConfig,
    log: Logger,
    redact: (text: string) => string,
    jobConfig?: RawConfig,
  ): TaskRunner {
    const scoped = this.taskStores?.(connectorName, taskId);
    const store = scoped?.store ?? this.store;
    const common = {
      taskMetrics: this.metrics.taskMetrics(plugin.metrics ?? [], connectorName, taskId),
      connectorState: taskStateStore(store, namespaces.connectorState(connectorName)),
      connector: connectorName,
      taskId,
      workerId: this.workerId,
      log,
      redact,
      metrics: this.metrics,
      shutdownTimeoutMs: this.config['task.shutdown.graceful.timeout.ms'],
      store,
      config: taskConfig,
      ...(scoped ? { release: () => scoped.release() } : {}),
      memberScope: this.config['group.id'] ?? this.workerId,
      activeTopics: new ActiveTopics(this.activeTopicsStore, connectorName, taskId, log),
    };
    if (plugin.type === 'sink') {
      return new SinkTaskRunner({
        ...common,
        task: connector.createTask() as SinkTask,
        commitIntervalMs: this.config['offset.flush.interval.ms'],
        bufferLedger: this.bufferLedger,
        createConsumer: (options) => new SinkConsumer({ ...options, connection: this.kafka, overrides: withPrefix(taskConfig, 'consumer.override.') }),
      });
    }
    const producerOverrides = withPrefix(taskConfig, 'producer.override.');
    return new SourceTaskRunner({
      ...common,
      newTask: () => connector.createTask() as SourceTask,
      ...(jobConfig ? { jobConfig } : {}),
      cluster: this.cluster,
      createProducer: ({ clientId, transactionalId }) =>
        new KafkaProducer(this.kafka, clientId, { ...(transactionalId ? { 'transactional.id': transactionalId } : {}), ...producerOverrides }),
      ...(taskConfig['transaction.boundary'] === 'poll' ? { offsetsTopic: this.offsetsTopic(connectorName) } : {}),
      restartWhenFenced: this.taskStores === undefined,
    });
  }
}
