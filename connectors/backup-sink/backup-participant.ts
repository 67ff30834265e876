import type { KafkaCluster } from '../../runtime/api/index.js';
import type { BackupCut, BackupParticipant, CutPartition } from '../common/backups.js';
import { eventsLocation } from '../common/backup-location.js';
import { highestBackupId, listBackupIds } from '../common/backup-manifests.js';
import { manifestKey } from '../common/formats/backup-manifest.js';
import { retryTransient, type ObjectStore } from '../common/object-store/object-store.js';
import { verifyBackup } from '../common/verify/index.js';
import { writeBackupManifest, type CapturedAtCut } from './backup-manifest-writer.js';
import { pruneBackups } from './backup-pruning.js';
import type { ClusterSnapshots } from './cluster-snapshots.js';
import type { BackupSinkSettings } from './config.js';

/** BackupSink's side of backups by id: what it covers, what it captures at a cut, its manifests and pruning. */
export function backupParticipant(args: {
  connector: string;
  settings: BackupSinkSettings;
  store: ObjectStore;
  snapshots: ClusterSnapshots;
}): BackupParticipant {
  const { connector, settings, store, snapshots } = args;
  const location = eventsLocation(settings);
  return {
    coversTopic: (topic) => snapshots.coversTopic(topic),
    refusal: () => {
      const expiring = settings['lifecycle.expire.days'] > 0 || settings['lifecycle.expire.topics'].length > 0;
      return expiring
        ? `connector ${connector} expires bundles with S3 lifecycle rules (lifecycle.expire.*), which would delete bundles a kept backup needs; use continuous.retention.days instead`
        : undefined;
    },
    capture: async (_cluster: KafkaCluster, partitions: readonly CutPartition[]) => {
      const topicNames = [...new Set(partitions.map((p) => p.topic))].sort();
      const topics: CapturedAtCut['topics'] = {};
      for (const topic of topicNames) {
        const described = await snapshots.describeTopic(topic);
        if (described) topics[topic] = described;
      }
      const captured: CapturedAtCut = {
        topics,
        groupOffsets: { format: 'coldstore-group-offsets-v1', takenAt: Date.now(), groups: await snapshots.readGroups(new Set(topicNames)) },
      };
      return captured as unknown as Record<string, unknown>;
    },
    writeManifest: async (cut: BackupCut) => ({
      bucket: location.bucket,
      key: await retryTransient('write the backup manifest', () => writeBackupManifest({ store, location, connector, layout: settings.layout, cut })),
    }),
    listBackupIds: () => listBackupIds(store, location),
    highestBackupId: () => highestBackupId(store, location),
    prune: ({ remove, inProgress, dryRun }) =>
      pruneBackups({
        store,
        location,
        connector,
        coversTopic: (t) => snapshots.coversTopic(t),
        retentionDays: settings['continuous.retention.days'],
        remove,
        inProgress,
        dryRun,
      }),
    discard: (backupId) => store.delete(location.bucket, `${location.prefix}${manifestKey(backupId, connector)}`),
    verify: (backupId) => verifyBackup({ store, location, backupId }),
  };
}
