import { ColdstoreError, ErrorCodes, tpKey } from '../../runtime/api/index.js';
import type { Location } from '../common/backup-location.js';
import { readManifests } from '../common/backup-manifests.js';
import type { BackupManifest, ManifestObject } from '../common/formats/backup-manifest.js';
import type { GroupOffsetsSnapshot, TopicMetadata } from '../common/formats/backup-metadata.js';
import type { ObjectStore } from '../common/object-store/object-store.js';

/** What a restore of one backup by id restores: each partition's offsets inside the cut, and the metadata taken at it. */
export interface BackupPlan {
  backupId: number;
  /** Per `topic/partition`: the offsets start..end-1, and the bundles holding them. */
  ranges: Map<string, { start: bigint; end: bigint; objects: readonly ManifestObject[] }>;
  topics: Record<string, Omit<TopicMetadata, 'format' | 'topic'>>;
  /** The group offsets at the cut (of every manifest, on the restored topics), with a key naming them in the restore's group plan. */
  groupSnapshot: { key: string; snapshot: GroupOffsetsSnapshot } | undefined;
}

/** Reads the backup's manifests; a backup or topic it does not hold is BACKUP_NOT_FOUND. */
export async function loadBackupPlan(store: ObjectStore, location: Location, backupId: number, topics: readonly string[]): Promise<BackupPlan> {
  const manifests = await readManifests(store, location, backupId);
  if (manifests.length === 0) {
    throw new ColdstoreError(
      ErrorCodes.BACKUP_NOT_FOUND,
      `Backup ${backupId} has no manifest in ${store.description} bucket ${location.bucket}: it does not exist there, or it has not completed. GET /backups/${backupId} on the worker that took it says which.`,
    );
  }
  const holding = (topic: string): BackupManifest | undefined => manifests.find((m) => m.partitions.some((p) => p.topic === topic));
  const missing = topics.filter((t) => !holding(t));
  if (missing.length > 0) {
    throw new ColdstoreError(
      ErrorCodes.BACKUP_NOT_FOUND,
      `Backup ${backupId} does not hold topic ${missing.join(', ')}; it holds ${[...new Set(manifests.flatMap((m) => m.partitions.map((p) => p.topic)))].sort().join(', ')}.`,
    );
  }
  const ranges: BackupPlan['ranges'] = new Map();
  const topicMetadata: BackupPlan['topics'] = {};
  for (const topic of topics) {
    const manifest = holding(topic)!;
    for (const p of manifest.partitions.filter((q) => q.topic === topic))
      ranges.set(tpKey(p), { start: BigInt(p.startOffset), end: BigInt(p.endOffset), objects: p.objects });
    const metadata = manifest.topics[topic];
    if (metadata) topicMetadata[topic] = metadata;
  }
  // Each BackupSink snapshots its groups on its own topics: merge them, for the restored topics only.
  const wanted = new Set(topics);
  const groups: GroupOffsetsSnapshot['groups'] = {};
  for (const manifest of manifests) {
    for (const [group, offsets] of Object.entries(manifest.groupOffsets?.groups ?? {})) {
      const mine = offsets.filter((o) => wanted.has(o.topic));
      if (mine.length > 0) groups[group] = [...(groups[group] ?? []), ...mine];
    }
  }
  const takenAt = Math.min(...manifests.map((m) => m.groupOffsets?.takenAt ?? Date.parse(m.createdAt)));
  return {
    backupId,
    ranges,
    topics: topicMetadata,
    groupSnapshot:
      Object.keys(groups).length > 0 ? { key: `backup:${backupId}`, snapshot: { format: 'coldstore-group-offsets-v1', takenAt, groups } } : undefined,
  };
}
