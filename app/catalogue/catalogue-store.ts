import type { CheckpointStore } from '../../runtime/storage/checkpoint-store.js';
import type { BackupRecord } from './backup-record.js';

const NAMESPACE = 'backup-catalogue';
/** The highest id ever taken, kept when its backup is deleted so ids never repeat. */
const HIGHEST_KEY = 'highest-id';

/** Backup records in the worker's checkpoint store, one entry per id. */
export class CatalogueStore {
  constructor(private readonly store: CheckpointStore) {}

  async all(): Promise<{ records: BackupRecord[]; highestId: number }> {
    const entries = await this.store.read(NAMESPACE);
    const records = Object.entries(entries)
      .filter(([key]) => /^\d+$/.test(key))
      .map(([, value]) => value as BackupRecord)
      .sort((a, b) => b.backupId - a.backupId);
    return { records, highestId: Number(entries[HIGHEST_KEY] ?? 0) };
  }

  async get(id: number): Promise<BackupRecord | undefined> {
    return (await this.store.read(NAMESPACE))[String(id)] as BackupRecord | undefined;
  }

  async put(record: BackupRecord, highestId?: number): Promise<void> {
    await this.store.write(NAMESPACE, { [String(record.backupId)]: record, ...(highestId !== undefined ? { [HIGHEST_KEY]: highestId } : {}) });
  }

  async remove(ids: readonly number[]): Promise<void> {
    if (ids.length > 0) await this.store.write(NAMESPACE, Object.fromEntries(ids.map((id) => [String(id), null])));
  }
}
