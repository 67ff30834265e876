import type { Location } from './backup-location.js';
import { BACKUPS_ROOT, backupIdOf, backupPrefix, parseManifest, type BackupManifest } from './formats/backup-manifest.js';
import type { ObjectStore } from './object-store/object-store.js';

/** Ids of the backups whose manifests are in this events location, ascending. */
export async function listBackupIds(store: ObjectStore, location: Location): Promise<number[]> {
  const directories = await store.listDirectories(location.bucket, `${location.prefix}${BACKUPS_ROOT}`);
  return directories.map(backupIdOf).filter((id) => id !== undefined);
}

/** Every manifest of one backup id in this location (one per BackupSink connector that took part); empty if none. */
export async function readManifests(store: ObjectStore, location: Location, backupId: number): Promise<BackupManifest[]> {
  const manifests: BackupManifest[] = [];
  for await (const item of store.list(location.bucket, `${location.prefix}${backupPrefix(backupId)}`)) {
    if (!item.key.endsWith('.json')) continue;
    const object = await store.get(location.bucket, item.key);
    if (object) manifests.push(parseManifest(object.body, item.key));
  }
  return manifests;
}
