import type { RawConfig } from './config-def.js';
import type { PartitionOffsets, SinkRecord, TopicPartition } from './records.js';
import type { TaskStateStore } from './task-state.js';
import type { TaskLogger } from './task-logger.js';
import type { TaskMetrics } from './metrics.js';

/** A partition handed to open(): where the runtime would start reading it (the committed next offset), if known. */
export interface AssignedPartition extends TopicPartition {
  committed?: bigint;
}

/**
 * Why preCommit is called. On `revoke` and `shutdown` the task should make everything
 * it holds durable first; on `flush` (a backup by id waits for it) it should start making
 * everything consumed so far durable, without waiting for it.
 */
export type CommitReason = 'interval' | 'requested' | 'flush' | 'revoke' | 'shutdown';

/**
 * How partitions were taken away: `revoked` in an orderly rebalance or shutdown (after a
 * `revoke` preCommit), or `lost` (the consumer's session expired or it was fenced:
 * another consumer may own them already, so nothing was committed and the task must
 * drop what it holds for them without writing it).
 */
export type ClosedHow = 'revoked' | 'lost';

/** What the worker's sink buffer budget says to a task after it reported its open buffers. */
export interface BufferVerdict {
  /** How many of the buffers just reported, the largest first, to close now. */
  close: number;
  /**
   * Present while the worker is still over budget because other tasks, holding larger
   * buffers, were asked to close theirs and have not yet: await it, then report again.
   */
  settled?: Promise<void>;
}

/**
 * The budget every sink task of one worker process shares for bytes held in open (not
 * yet written) buffers: `sink.buffer.max.bytes`. Past it the largest buffers worker-wide
 * close first; a task holding some of them is asked through releaseBuffers. Under it
 * nothing need close.
 */
export interface SinkBufferBudget {
  readonly maxBytes: number;
  /**
   * Reports the sizes of every open buffer of this task that could close now (one entry
   * per buffer; what cannot close is left out). The task must close at once as many of
   * its largest as the verdict says.
   */
  report(open: readonly number[]): BufferVerdict;
}

export interface SinkTaskContext {
  readonly connectorName: string;
  readonly taskId: number;
  readonly log: TaskLogger;
  /** Durable per-task state in the checkpoint store. */
  readonly state: TaskStateStore;
  /**
   * Durable state shared by every task of the connector (e.g. per-partition
   * recovery hints, which must survive a partition moving to another task).
   */
  readonly connectorState: TaskStateStore;
  /** The plugin's declared metrics, with connector and task attributes added. */
  readonly metrics: TaskMetrics;
  /** The worker-wide budget for open buffers, shared with every other sink task of the worker. */
  readonly bufferBudget: SinkBufferBudget;
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
  /**
   * Partitions newly assigned to this task; state for them starts here. May return
   * where to start reading some of them instead of their committed offset (e.g.
   * past data the task finds already durable); the runtime then commits from there.
   */
  open(partitions: AssignedPartition[]): Promise<PartitionOffsets | void>;
  /**
   * A batch in offset order per partition. May buffer; need not be durable on return.
   * The records' keys, values and header values are views of one buffer holding the
   * whole polled batch: a task that keeps some past put() should copy their bytes, or it
   * keeps the whole batch in memory.
   */
  put(records: SinkRecord[]): Promise<void>;
  /**
   * Called before each commit with the offsets consumed so far. Returns the
   * next-offsets that are durably stored; only those are committed.
   */
  preCommit(consumed: PartitionOffsets, reason: CommitReason): Promise<PartitionOffsets>;
  /** Partitions taken away (rebalance, lost assignment, stop); the task must not write them again. */
  close(partitions: TopicPartition[], how?: ClosedHow): Promise<void>;
  /**
   * The worker's buffer budget is exceeded and this task holds some of the largest open
   * buffers: report to context.bufferBudget again and close what it says. The runner calls
   * it between puts (never during one), soon after the task was asked.
   */
  releaseBuffers?(): Promise<void>;
  /** The task's own figures for its status `progress`, beside the partitions the runtime reports. */
  progress?(): Record<string, unknown> | undefined;
  stop(): Promise<void>;
}
