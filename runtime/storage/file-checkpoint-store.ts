import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readJsonFile, writeFileAtomic } from './atomic-file.js';
import type { CheckpointEntries, CheckpointStore } from './checkpoint-store.js';

/**
 * The embedded checkpoint store: one JSON file per namespace in
 * `<data.dir>/checkpoints`, each replaced atomically. Writes to one namespace
 * are serialised so a later write never lands before an earlier one.
 */
export class FileCheckpointStore implements CheckpointStore {
  private readonly dir: string;
  private readonly cache = new Map<string, CheckpointEntries>();
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'checkpoints');
  }

  private fileOf(namespace: string): string {
    return join(this.dir, `${encodeURIComponent(namespace)}.json`);
  }

  async read(namespace: string): Promise<CheckpointEntries> {
    return { ...(await this.load(namespace)) };
  }

  private async load(namespace: string): Promise<CheckpointEntries> {
    let entries = this.cache.get(namespace);
    if (!entries) {
      entries = (await readJsonFile<CheckpointEntries>(this.fileOf(namespace))) ?? {};
      this.cache.set(namespace, entries);
    }
    return entries;
  }

  write(namespace: string, changes: Record<string, unknown | null>): Promise<void> {
    return this.serialise(namespace, async () => {
      const next = { ...(await this.load(namespace)) };
      for (const [key, value] of Object.entries(changes)) {
        if (value === null || value === undefined) delete next[key];
        else next[key] = value;
      }
      await writeFileAtomic(this.fileOf(namespace), JSON.stringify(next));
      this.cache.set(namespace, next);
    });
  }

  drop(namespace: string): Promise<void> {
    return this.serialise(namespace, async () => {
      await rm(this.fileOf(namespace), { force: true });
      this.cache.set(namespace, {});
    });
  }

  /** Namespaces that start with this prefix, for dropping every task's state of a connector. */
  async list(prefix: string): Promise<string[]> {
    const files = await readdir(this.dir).catch(() => [] as string[]);
    return files
      .filter((f) => f.endsWith('.json'))
      .map((f) => decodeURIComponent(f.slice(0, -'.json'.length)))
      .filter((ns) => ns.startsWith(prefix));
  }

  private serialise<T>(namespace: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(namespace) ?? Promise.resolve();
    const next = previous.then(work, work);
    this.queues.set(namespace, next.catch(() => undefined));
    return next;
  }

  async close(): Promise<void> {
    await Promise.all(this.queues.values());
  }
}
