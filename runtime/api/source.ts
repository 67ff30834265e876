import type { RawConfig } from './config-def.js';
import type { KafkaCluster } from './cluster.js';
import type { RecordPlacement, SourceOffset, SourceOffsetEntry, SourcePartition, SourceRecord } from './records.js';
import type { TaskStateStore } from './task-state.js';
import type { TaskLogger } from './task-logger.js';
import type { TaskMetrics } from './metrics.js';

export interface SourceTaskContext {
  readonly connectorName: string;
  readonly taskId: number;
  readonly log: TaskLogger;
  readonly state: TaskStateStore;
  /** Durable state shared by every task of the connector. */
  readonly connectorState: TaskStateStore;
  /** The plugin's declared metrics, with connector and task attributes added. */
  readonly metrics: TaskMetrics;
  /** The last offset the runtime persisted for this source partition (after the destination acknowledged it). */
  offset(partition: SourcePartition): Promise<SourceOffset | undefined>;
  /** Every offset the runtime persisted for this connector. */
  offsets(): Promise<SourceOffsetEntry[]>;
  /** The Kafka cluster the records go to. */
  readonly cluster: KafkaCluster;
  /** True when each poll's records are produced in one Kafka transaction with their offsets (transaction.boundary=poll). */
  readonly transactional: boolean;
}

/** What poll returns: records to deliver, or `done` when a finite job has nothing left to do. */
export type PollResult = { records: SourceRecord[] } | { done: true; summary?: Record<string, unknown> };

export interface SourceTask {
  start(config: RawConfig, context: SourceTaskContext): Promise<void>;
  /**
   * Returns the next records; an empty list means "nothing now", and the runtime polls
   * again shortly. In transactional mode it may be called while the previous poll's
   * transaction commits; after an empty poll the runtime waits for that commit (and its
   * offsets to be persisted) before polling again.
   */
  poll(): Promise<PollResult>;
  /**
   * Kafka stored these records (placements[i] is where records[i] landed), before
   * their offsets are persisted — in transactional mode before the transaction commits,
   * and possibly after the next poll. May return more offsets to persist with them (e.g.
   * where a record landed), atomically — in the same transaction in transactional mode.
   */
  delivered?(records: readonly SourceRecord[], placements: readonly RecordPlacement[]): SourceOffsetEntry[];
  /** Progress figures shown in the task status (e.g. objects and records restored). */
  progress?(): Record<string, unknown>;
  stop(): Promise<void>;
}
