/**
 * The Kafka cluster operations a connector may need besides producing and
 * consuming (topic metadata, consumer-group offsets). The runtime implements
 * it over the worker's Kafka connection; connectors never import a client.
 */
export interface TopicDescription {
  topic: string;
  partitions: number;
  replicationFactor: number;
  /** Configs set on the topic itself (not broker or default values), when asked for. */
  configs?: Record<string, string>;
}

export interface PartitionOffset {
  topic: string;
  partition: number;
  offset: bigint;
}

/** A partition's offsets at one moment, as a read_committed consumer sees them. */
export interface PartitionBounds {
  topic: string;
  partition: number;
  /** Log start offset. */
  start: bigint;
  /** Last stable offset: the end, short of records in transactions still open. */
  end: bigint;
}

export interface KafkaCluster {
  /** Every topic, internal ones included. */
  listTopics(): Promise<string[]>;
  /** undefined when the topic does not exist; `configs: true` also reads the topic's own configs. */
  describeTopic(topic: string, options?: { configs?: boolean }): Promise<TopicDescription | undefined>;
  /** Creates the topic; one that already exists is left as it is. */
  createTopic(topic: string, partitions: number, options?: { replicationFactor?: number; configs?: Record<string, string> }): Promise<void>;
  /** Grows a topic to `total` partitions; one that already has at least that many is left as it is. */
  createPartitions(topic: string, total: number): Promise<void>;
  /** Ids of the consumer groups the cluster knows. */
  listGroups(): Promise<string[]>;
  /** The live members of a group (none: it is empty or unknown), and the client id each joined with. */
  groupMembers(group: string): Promise<{ memberId: string; clientId: string }[]>;
  /** A group's committed offsets (next offset to read), for every partition it has one for. */
  groupOffsets(group: string): Promise<PartitionOffset[]>;
  /** Commits offsets for a group; fails while the group has active members. */
  commitGroupOffsets(group: string, offsets: PartitionOffset[]): Promise<void>;
  /** Each partition's log end offset (high watermark). */
  endOffsets(topic: string, partitions: number): Promise<Map<number, bigint>>;
  /** Start and end offsets of many partitions, each bound read in one request for all of them. */
  partitionBounds(partitions: readonly { topic: string; partition: number }[]): Promise<PartitionBounds[]>;
  /** Whether a read_committed reader finds a record at an offset in [from, to) (false: only transaction markers or aborted records there). */
  committedRecordBetween(tp: { topic: string; partition: number }, from: bigint, to: bigint): Promise<boolean>;
}
