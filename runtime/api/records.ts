export type TimestampType = 'CREATE_TIME' | 'LOG_APPEND_TIME' | 'NOT_AVAILABLE';

/** Null and empty are different for key, value and header values; header order and duplicates are kept. */
export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface SinkRecord {
  topic: string;
  partition: number;
  offset: bigint;
  timestamp: number;
  timestampType: TimestampType;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

/**
 * Offsets keyed by `topic/partition` (see tpKey). The value is the next offset
 * to consume, as in Kafka's committed offsets.
 */
export type PartitionOffsets = Map<string, bigint>;

/**
 * A next-offset meaning "the first offset still in the partition's log" (librdkafka's
 * logical OFFSET_BEGINNING): what a task returns from open() or asks for in seek() to
 * read a partition from its start.
 */
export const START_OF_PARTITION = -2n;

export function tpKey(tp: TopicPartition): string {
  return `${tp.topic}/${tp.partition}`;
}

export function parseTpKey(key: string): TopicPartition {
  const cut = key.lastIndexOf('/');
  return { topic: key.slice(0, cut), partition: Number(key.slice(cut + 1)) };
}

/** A source-partition identifies a stream of input (e.g. one backup prefix); its offset says how far it was read. */
export type SourcePartition = Record<string, string | number>;
export type SourceOffset = Record<string, string | number | boolean | null>;

export interface SourceOffsetEntry {
  partition: SourcePartition;
  offset: SourceOffset;
}

/** Where Kafka stored a produced record. */
export interface RecordPlacement {
  partition: number;
  offset: bigint;
}

export interface SourceRecord {
  sourcePartition: SourcePartition;
  sourceOffset: SourceOffset;
  topic: string;
  /** Omitted: the producer's partitioner chooses. */
  partition?: number;
  timestamp?: number;
  key: Buffer | null;
  value: Buffer | null;
  headers?: RecordHeader[];
}
