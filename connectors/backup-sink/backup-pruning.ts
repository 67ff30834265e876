import type { StoredObjectRef } from '../../runtime/api/index.js';
import type { Location } from '../shared/backup-location.js';
import { listBackupIds, readManifests } from '../shared/backup-manifests.js';
import { manifestKey } from '../shared/formats/backup-manifest.js';
import { METADATA_PREFIX } from '../shared/formats/backup-metadata.js';
import type { ObjectStore } from '../shared/object-store/object-store.js';
import { listBundles, neededBy } from './backup-manifest-writer.js';

const DAY_MS = 86_400_000;

interface Range {
  startOffset: bigint;
  endOffset: bigint;
}

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
 * topics it backs up, bundles from the oldest end that no remaining backup holds and that
 * are older than the continuous retention window. Deleting only from the oldest end keeps
 * the continuous backup without holes, so a restore of it still checks coverage.
 */
export async function pruneBackups(args: {
  store: ObjectStore;
  location: Location;
  connector: string;
  coversTopic: (topic: string) => boolean;
  retentionDays: number;
  remove: readonly number[];
  dryRun: boolean;
  now?: number;
}): Promise<StoredObjectRef[]> {
  const { store, location } = args;
  const gone: StoredObjectRef[] = [];
  const drop = async (key: string) => {
    gone.push({ bucket: location.bucket, key });
    if (!args.dryRun) await store.delete(location.bucket, key);
  };
  for (const id of args.remove) {
    const key = `${location.prefix}${manifestKey(id, args.connector)}`;
    if (await store.head(location.bucket, key)) await drop(key);
  }
  if (args.retentionDays <= 0) return gone;
  const cutoff = (args.now ?? Date.now()) - args.retentionDays * DAY_MS;
  const kept = await keptRanges(store, location, new Set(args.remove));
  const topics = (await store.listDirectories(location.bucket, location.prefix)).filter((t) => !`${t}/`.startsWith(METADATA_PREFIX) && args.coversTopic(t));
  for (const topic of topics) {
    const partitions = (await store.listDirectories(location.bucket, `${location.prefix}${topic}/`)).filter((d) => /^\d+$/.test(d)).map(Number);
    for (const partition of partitions) {
      const ranges = kept.get(`${topic}/${partition}`) ?? [];
      for (const bundle of await listBundles(store, location, topic, partition)) {
        if (bundle.lastModified >= cutoff || ranges.some((r) => neededBy(bundle, r))) break;
        await drop(bundle.key);
      }
    }
  }
  return gone;
}
