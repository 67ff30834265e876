import type { RawConfig } from './config-def.js';
import type { PartitionOffsets, SinkRecord, TopicPartition } from './records.js';
import type { TaskStateStore } from './task-state.js';
import type { TaskLogger } from './task-logger.js';

export interface SinkTaskContext {
  readonly connectorName: string;
  readonly taskId: number;
  readonly log: TaskLogger;
  /** Durable per-task state (write-ahead intents, progress) in the checkpoint store. */
  readonly state: TaskStateStore;
  assignment(): TopicPartition[];
  /** Ask the runtime to rewind consumption of these partitions to these next-offsets. */
  seek(offsets: PartitionOffsets): void;
  /** Ask the runtime to call preCommit and commit soon (e.g. a bundle just became durable). */
  requestCommit(): void;
  pause(partitions: TopicPartition[]): void;
  resume(partitions: TopicPartition[]): void;
}

/**
 * Receives records, stores them, and says which offsets are durable.
 * Throw RetriableError from put/preCommit to have the runtime back off and retry.
 */
export interface SinkTask {
  start(config: RawConfig, context: SinkTaskContext): Promise<void>;
  /** Partitions newly assigned to this task; state for them starts here. */
  open(partitions: TopicPartition[]): Promise<void>;
  /** A batch in offset order per partition. May buffer; need not be durable on return. */
  put(records: SinkRecord[]): Promise<void>;
  /**
   * Called before each commit with the offsets consumed so far. Returns the
   * next-offsets that are durably stored; only those are committed.
   */
  preCommit(consumed: PartitionOffsets): Promise<PartitionOffsets>;
  /** Partitions taken away (rebalance, stop); the task must not write them again. */
  close(partitions: TopicPartition[]): Promise<void>;
  stop(): Promise<void>;
}
