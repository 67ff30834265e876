import type { CutPartition, StoredObjectRef } from '../common/backups.js';
import { BackupLocation, type Location } from '../common/backup-location.js';
import { listBackupIds, readManifests } from '../common/backup-manifests.js';
import { manifestKey } from '../common/formats/backup-manifest.js';
import { METADATA_PREFIX, parseJsonObject, topicMetadataKey, type TopicMetadata } from '../common/formats/backup-metadata.js';
import type { ObjectStore } from '../common/object-store/object-store.js';
import { listBundles, neededBy } from './backup-manifest-writer.js';

const DAY_MS = 86_400_000;

/** Whether the backed-up topic's recorded configs say it is compacted (unknown counts as not). */
async function isCompacted(store: ObjectStore, location: Location, topic: string): Promise<boolean> {
  const key = BackupLocation.of(location).key(topicMetadataKey(topic));
  const object = await store.get(location.bucket, key);
  if (!object) return false;
  return (parseJsonObject<TopicMetadata>(object.body, 'coldstore-topic-v1', key).configs['cleanup.policy'] ?? '').includes('compact');
}

type Range = Pick<CutPartition, 'startOffset' | 'endOffset'>;

/** Every partition's ranges held by the backups whose manifests stay (any connector's, so a shared bucket is safe). */
async function keptRanges(store: ObjectStore, location: Location, removed: ReadonlySet<number>): Promise<Map<string, Range[]>> {
  const ranges = new Map<string, Range[]>();
  for (const id of await listBackupIds(store, location)) {
    if (removed.has(id)) continue;
    for (const manifest of await readManifests(store, location, id)) {
      for (const p of manifest.partitions) {
        const key = `${p.topic}/${p.partition}`;
        ranges.set(key, [...(ranges.get(key) ?? []), { startOffset: BigInt(p.startOffset), endOffset: BigInt(p.endOffset) }]);
      }
    }
  }
  return ranges;
}

/**
 * Deletes this connector's manifests of the removed backups, then, per partition of the
 * topics it backs up (not compacted ones), bundles from the oldest end that no remaining
 * or running backup holds and that are older than the continuous retention window, never
 * the newest. Deleting only from the oldest end keeps the continuous backup without
 * holes, so a restore of it still checks coverage.
 */
export async function pruneBackups(args: {
  store: ObjectStore;
  location: Location;
  connector: string;
  coversTopic: (topic: string) => boolean;
  retentionDays: number;
  remove: readonly number[];
  /** Cuts of backups still in progress: their manifests will list these bundles. */
  inProgress: readonly CutPartition[];
  dryRun: boolean;
  now?: number;
}): Promise<StoredObjectRef[]> {
  const { store } = args;
  const location = BackupLocation.of(args.location);
  const gone: StoredObjectRef[] = [];
  const drop = async (key: string) => {
    gone.push({ bucket: location.bucket, key });
    if (!args.dryRun) await store.delete(location.bucket, key);
  };
  for (const id of args.remove) {
    const key = location.key(manifestKey(id, args.connector));
    if (await store.head(location.bucket, key)) await drop(key);
  }
  if (args.retentionDays <= 0) return gone;
  const cutoff = (args.now ?? Date.now()) - args.retentionDays * DAY_MS;
  const kept = await keptRanges(store, location, new Set(args.remove));
  for (const p of args.inProgress) kept.set(`${p.topic}/${p.partition}`, [...(kept.get(`${p.topic}/${p.partition}`) ?? []), p]);
  const topics = (await location.listDirectories(store)).filter((t) => !`${t}/`.startsWith(METADATA_PREFIX) && args.coversTopic(t));
  for (const topic of topics) {
    // A compacted topic's old bundles hold keys that are still live: age says nothing about them.
    if (await isCompacted(store, location, topic)) continue;
    const partitions = (await location.listDirectories(store, `${topic}/`)).filter((d) => /^\d+$/.test(d)).map(Number);
    for (const partition of partitions) {
      const ranges = kept.get(`${topic}/${partition}`) ?? [];
      // The newest bundle always stays: it is where an idle partition's backup resumes its tiling.
      const bundles = (await listBundles(store, location, topic, partition)).slice(0, -1);
      for (const bundle of bundles) {
        if (bundle.lastModified >= cutoff || ranges.some((r) => neededBy(bundle, r))) break;
        await drop(bundle.key);
      }
    }
  }
  return gone;
}
