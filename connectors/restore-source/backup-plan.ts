import { ColdstoreError, ErrorCodes, tpKey } from '../../runtime/api/index.js';
import type { Location } from '../shared/backup-location.js';
import { readManifests } from '../shared/backup-manifests.js';
import { manifestKey, type BackupManifest } from '../shared/formats/backup-manifest.js';
import type { GroupOffsetsSnapshot, TopicMetadata } from '../shared/formats/backup-metadata.js';
import type { ObjectStore } from '../shared/object-store/object-store.js';

/** What a restore of one backup by id restores: each partition's offsets inside the cut, and the metadata taken at it. */
export interface BackupPlan {
  backupId: number;
  /** Per `topic/partition`: the offsets start..end-1. */
  ranges: Map<string, { start: bigint; end: bigint }>;
  topics: Record<string, Omit<TopicMetadata, 'format' | 'topic'>>;
  /** The group offsets at the cut, named by the manifest that holds them. */
  groupSnapshot: { key: string; snapshot: GroupOffsetsSnapshot } | undefined;
}

/** Reads the backup's manifests; a backup or topic it does not hold is BACKUP_NOT_FOUND. */
export async function loadBackupPlan(store: ObjectStore, location: Location, backupId: number, topics: readonly string[]): Promise<BackupPlan> {
  const manifests = await readManifests(store, location, backupId);
  if (manifests.length === 0) {
    throw new ColdstoreError(ErrorCodes.BACKUP_NOT_FOUND, `Backup ${backupId} has no manifest in ${store.description} bucket ${location.bucket}: it does not exist there, or it has not completed. GET /backups/${backupId} on the worker that took it says which.`);
  }
  const holding = (topic: string): BackupManifest | undefined => manifests.find((m) => m.partitions.some((p) => p.topic === topic));
  const missing = topics.filter((t) => !holding(t));
  if (missing.length > 0) {
    throw new ColdstoreError(ErrorCodes.BACKUP_NOT_FOUND, `Backup ${backupId} does not hold topic ${missing.join(', ')}; it holds ${[...new Set(manifests.flatMap((m) => m.partitions.map((p) => p.topic)))].sort().join(', ')}.`);
  }
  const ranges = new Map<string, { start: bigint; end: bigint }>();
  const topicMetadata: BackupPlan['topics'] = {};
  for (const topic of topics) {
    const manifest = holding(topic)!;
    for (const p of manifest.partitions.filter((q) => q.topic === topic)) ranges.set(tpKey(p), { start: BigInt(p.startOffset), end: BigInt(p.endOffset) });
    const metadata = manifest.topics[topic];
    if (metadata) topicMetadata[topic] = metadata;
  }
  // Group offsets come from the manifest holding the first topic; several BackupSinks each snapshot their own groups.
  const withGroups = manifests.find((m) => Object.keys(m.groupOffsets?.groups ?? {}).length > 0);
  return {
    backupId,
    ranges,
    topics: topicMetadata,
    groupSnapshot: withGroups ? { key: `${location.prefix}${manifestKey(backupId, withGroups.connector)}`, snapshot: withGroups.groupOffsets } : undefined,
  };
}
