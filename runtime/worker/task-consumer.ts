import type { RawConfig } from '../api/config-def.js';
import type { SinkRecord, TopicPartition } from '../api/records.js';
import { fingerprint } from '../config/fingerprint.js';

export type RebalanceEvent =
  | { kind: 'assigned'; partitions: TopicPartition[] }
  /** `lost`: the session expired or the member was fenced; another consumer may own them already. */
  | { kind: 'revoked'; partitions: TopicPartition[]; lost: boolean };

/** Who the sink runner's consumer is in its group, and what it subscribes to. */
export interface TaskConsumerOptions {
  groupId: string;
  clientId: string;
  /**
   * Static group membership: a restarted task with the same id takes its
   * partitions back at once instead of waiting for the dead member's session to expire.
   */
  groupInstanceId?: string;
  /** Either explicit topics or a regex (Java/PCRE-style, matched against whole names). */
  topics: readonly string[];
  topicsRegex?: string;
  /** Called from the client's thread hand-off; the owner must later call assign/unassign. */
  onRebalance: (event: RebalanceEvent) => void;
}

/**
 * The consumer the sink runner drives (runtime/kafka/sink-consumer.ts over Kafka;
 * a fake in unit tests). Rebalances are handed to the runner instead of being
 * applied by the consumer, so it can commit a revoked partition before giving it
 * up and choose where an assigned one starts.
 */
export interface TaskConsumer {
  connect(): Promise<void>;
  /** Up to `max` records; an empty list after the poll timeout. Serves rebalance callbacks too. */
  consume(max: number): Promise<SinkRecord[]>;
  /** Start consuming these partitions; `offset` is the next offset to read, or absent for the group's committed one. */
  assign(partitions: (TopicPartition & { offset?: bigint })[]): void;
  /** Gives every partition back. */
  unassign(): void;
  pause(partitions: TopicPartition[]): void;
  resume(partitions: TopicPartition[]): void;
  /** Resolves once the fetcher moved: records consumed afterwards come from the new offset. */
  seek(partition: TopicPartition, offset: bigint): Promise<void>;
  /** Mirrors offsets into the consumer group, best effort: the checkpoint store is the source of truth. */
  commit(offsets: (TopicPartition & { offset: bigint })[]): void;
  /** The partition's end offset as last seen, if known. */
  highWatermark(partition: TopicPartition): bigint | undefined;
  /** The next offset the application would be given, per `topic/partition`; moves past transaction markers and aborted records. */
  positions(partitions: TopicPartition[]): Map<string, bigint>;
  disconnect(): Promise<void>;
}

export type TaskConsumerFactory = (options: TaskConsumerOptions) => TaskConsumer;

/** Who a sink task's consumer is in its group (`connect-<connector>`), and what it subscribes to. */
export function sinkConsumerMembership(task: {
  connector: string;
  taskId: number;
  workerId: string;
  memberScope?: string;
  config: RawConfig;
}): Omit<TaskConsumerOptions, 'onRebalance'> {
  const { connector, taskId, workerId, config } = task;
  const topics = (config['topics'] ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const topicsRegex = config['topics.regex'] || undefined;
  // The broker hands a returning static member its previous assignment without a
  // rebalance, even when its subscription changed; a new subscription is therefore a new member.
  const subscription = fingerprint([[...topics].sort(), topicsRegex ?? null]).slice(0, 8);
  return {
    groupId: `connect-${connector}`,
    clientId: `coldstore-${connector}-${taskId}`,
    // In a cluster the id names the task, not the worker: the task's next owner takes its
    // partitions over at once, and Kafka fences the previous owner's consumer (FENCED_INSTANCE_ID).
    groupInstanceId: `${task.memberScope ?? workerId}-${connector}-${taskId}-${subscription}`,
    topics,
    topicsRegex,
  };
}
