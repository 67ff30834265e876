import type { SourceOffsetEntry, SourcePartition, SourceRecord, TopicPartition } from '../../runtime/api/index.js';
import type { BackedUpRecord } from '../layouts/kafka-v1/bundle-codec.js';
import type { ResumePoint } from './partition-cursor.js';
import { targetPartition, type TopicTarget } from './targets.js';

/**
 * A restored record's source offset: where it is in the backup (bundle key without
 * location prefix, original offset) and how many records of its partition are
 * restored with it, so counts carry over to later runs of the same restore.
 */
export type RecordSourceOffset = {
  key: string;
  offset: number;
  records: number;
  /** Follow mode: the record's timestamp, so a restarted task still knows the age of the newest record restored. */
  timestamp?: number;
};

/** What an earlier run persisted for a partition: where to resume, and its counts. */
export interface StoredPosition {
  resume: ResumePoint | undefined;
  records: number;
  lastOffset: number | null;
  /** The last restored record's timestamp, when the run that restored it kept it (follow mode). */
  timestamp: number | null;
}

/** Record offsets have no `kind`; placements (group-offsets.ts) share the offsets and have one. */
const isRecordOffset = (e: SourceOffsetEntry): boolean => e.partition['kind'] === undefined;

export function storedPosition(stored: readonly SourceOffsetEntry[], tp: TopicPartition): StoredPosition {
  const offset = stored.find((e) => isRecordOffset(e) && e.partition['topic'] === tp.topic && e.partition['partition'] === tp.partition)?.offset;
  return {
    resume: offset && typeof offset['key'] === 'string' ? { key: offset['key'], offset: BigInt(offset['offset'] as number) } : undefined,
    records: Number(offset?.['records'] ?? 0),
    lastOffset: offset ? Number(offset['offset']) : null,
    timestamp: typeof offset?.['timestamp'] === 'number' ? offset['timestamp'] : null,
  };
}

/** Whether any earlier run of this connector restored records (the offsets phase alone needs their placements). */
export function recordsRestoredBefore(stored: readonly SourceOffsetEntry[]): boolean {
  return stored.some(isRecordOffset);
}

export function toSourceRecord(r: BackedUpRecord, sourcePartition: SourcePartition, sourceOffset: RecordSourceOffset, target: TopicTarget): SourceRecord {
  return {
    sourcePartition,
    sourceOffset,
    topic: target.topic,
    partition: targetPartition(target, r.key, r.partition),
    // Without a timestamp the broker stamps the restore time.
    timestamp: r.timestampType !== 'NOT_AVAILABLE' && r.timestamp >= 0 ? r.timestamp : undefined,
    key: r.key,
    value: r.value,
    headers: r.headers,
  };
}
