import type { CutPartition, StoredObjectRef } from '../../connectors/common/backups.js';

export type BackupState = 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';

/** One partition of a backup as stored: offsets are decimal strings (JSON has no bigint). */
export interface StoredCutPartition {
  topic: string;
  partition: number;
  startOffset: string;
  endOffset: string;
  /** Every record below it was durable when last checked. */
  durableOffset?: string;
}

export interface StoredParticipant {
  connector: string;
  /** The connector's config at the cut: a change (another bucket, other topics) fails the backup. */
  configFingerprint: string;
  partitions: StoredCutPartition[];
  captured: Record<string, unknown>;
  manifest?: StoredObjectRef;
}

/** A backup by id as the catalogue keeps it (checkpoint store). */
export interface BackupRecord {
  backupId: number;
  status: BackupState;
  failureReason: string | null;
  /** Milliseconds since the epoch. */
  createdAt: number;
  lastUpdatedAt: number;
  participants: StoredParticipant[];
}

export function partitionDone(p: StoredCutPartition): boolean {
  const end = BigInt(p.endOffset);
  return BigInt(p.startOffset) >= end || (p.durableOffset !== undefined && BigInt(p.durableOffset) >= end);
}

/** The REST shape (docs/rest-api.md, backups). */
export function backupView(record: BackupRecord) {
  return {
    backupId: record.backupId,
    status: record.status,
    failureReason: record.failureReason,
    createdAt: new Date(record.createdAt).toISOString(),
    lastUpdatedAt: new Date(record.lastUpdatedAt).toISOString(),
    partitions: record.participants.flatMap((c) =>
      c.partitions.map((p) => ({
        connector: c.connector,
        topic: p.topic,
        partition: p.partition,
        startOffset: Number(p.startOffset),
        endOffset: Number(p.endOffset),
        durableOffset: p.durableOffset === undefined ? null : Number(p.durableOffset),
        status: partitionDone(p) ? 'COMPLETED' : record.status === 'FAILED' ? 'FAILED' : 'IN_PROGRESS',
      })),
    ),
    manifests: record.participants.flatMap((c) => (c.manifest ? [{ connector: c.connector, ...c.manifest }] : [])),
  };
}

export type BackupView = ReturnType<typeof backupView>;

export function storedPartition(p: CutPartition) {
  return { topic: p.topic, partition: p.partition, startOffset: p.startOffset.toString(), endOffset: p.endOffset.toString() };
}

export function cutPartition(p: { topic: string; partition: number; startOffset: string; endOffset: string }): CutPartition {
  return { topic: p.topic, partition: p.partition, startOffset: BigInt(p.startOffset), endOffset: BigInt(p.endOffset) };
}
