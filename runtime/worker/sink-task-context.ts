import type { PartitionOffsets, TopicPartition } from '../api/records.js';
import type { SinkBufferBudget, SinkTaskContext } from '../api/sink.js';
import { namespaces } from '../storage/checkpoint-store.js';
import type { SinkRunnerDeps } from './sink-runner.js';
import { taskLogger, taskStateStore } from './task-context.js';

/** What a sink task may ask of its runner (Kafka Connect's SinkTaskContext). */
export interface SinkTaskControls {
  assignment(): TopicPartition[];
  seek(offsets: PartitionOffsets): void;
  requestCommit(): void;
  pause(partitions: TopicPartition[]): void;
  resume(partitions: TopicPartition[]): void;
}

/** A sink task's context: its own state, the connector's, its metrics and logger, its share of the worker's buffer budget, and what it may ask of the runner. */
export function sinkTaskContext(deps: SinkRunnerDeps, bufferBudget: SinkBufferBudget, controls: SinkTaskControls): SinkTaskContext {
  return {
    connectorName: deps.connector,
    taskId: deps.taskId,
    log: taskLogger(deps.log),
    state: taskStateStore(deps.store, namespaces.taskState(deps.connector, deps.taskId)),
    connectorState: deps.connectorState,
    metrics: deps.taskMetrics,
    bufferBudget,
    ...controls,
  };
}
