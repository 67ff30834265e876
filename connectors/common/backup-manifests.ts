import { BackupLocation, type Location } from './backup-location.js';
import { BACKUPS_ROOT, backupIdOf, backupPrefix, HIGHEST_ID_KEY, parseManifest, type BackupManifest } from './formats/backup-manifest.js';
import type { ObjectStore } from './object-store/object-store.js';

/** Ids of the backups whose manifests are in this events location, ascending. */
export async function listBackupIds(store: ObjectStore, location: Location): Promise<number[]> {
  const directories = await BackupLocation.of(location).listDirectories(store, BACKUPS_ROOT);
  return directories.map(backupIdOf).filter((id) => id !== undefined);
}

/** Every manifest of one backup id in this location (one per BackupSink connector that took part); empty if none. */
export async function readManifests(store: ObjectStore, location: Location, backupId: number): Promise<BackupManifest[]> {
  const manifests: BackupManifest[] = [];
  for await (const item of BackupLocation.of(location).list(store, backupPrefix(backupId))) {
    if (!item.key.endsWith('.json')) continue;
    const object = await store.get(location.bucket, item.fullKey);
    if (object) manifests.push(parseManifest(object.body, item.fullKey));
  }
  return manifests;
}

async function recordedHighestId(store: ObjectStore, location: Location): Promise<number> {
  const marker = await store.get(location.bucket, BackupLocation.of(location).key(HIGHEST_ID_KEY));
  const recorded = marker ? Number((JSON.parse(marker.body.toString('utf8')) as { highestId?: unknown }).highestId) : 0;
  return Number.isSafeInteger(recorded) ? recorded : 0;
}

/** The highest backup id ever completed in this location, deleted ones included (ids never repeat). */
export async function highestBackupId(store: ObjectStore, location: Location): Promise<number> {
  return Math.max(await recordedHighestId(store, location), ...(await listBackupIds(store, location)), 0);
}

/** Records that `backupId` was taken here, so a worker that never saw it still refuses to reuse it once it is deleted. */
export async function recordBackupId(store: ObjectStore, location: Location, backupId: number): Promise<void> {
  if ((await recordedHighestId(store, location)) >= backupId) return;
  await store.put(location.bucket, BackupLocation.of(location).key(HIGHEST_ID_KEY), Buffer.from(JSON.stringify({ highestId: backupId })), {
    'content-type': 'application/json',
  });
}
