import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readJsonFile, writeFileAtomic } from './atomic-file.js';
import type { CheckpointEntries, CheckpointStore } from './checkpoint-store.js';

type Operation = { kind: 'write'; changes: Record<string, unknown | null> } | { kind: 'drop' };

interface Batch {
  operations: Operation[];
  waiters: { resolve: () => void; reject: (err: unknown) => void }[];
}

/**
 * The embedded checkpoint store: one JSON file per namespace in
 * `<data.dir>/checkpoints`, each replaced atomically. Writes to one namespace
 * land in the order they were made. While one replacement of a namespace's file
 * is in flight, the writes that arrive meanwhile are merged into the next one
 * (group commit): under load each file is fsync'd once per batch, not once per
 * write, and every caller still returns only once its change is durable.
 */
export class FileCheckpointStore implements CheckpointStore {
  private readonly dir: string;
  private readonly cache = new Map<string, CheckpointEntries>();
  private readonly pending = new Map<string, Batch>();
  private readonly flushing = new Map<string, Promise<void>>();

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
    return this.enqueue(namespace, { kind: 'write', changes });
  }

  drop(namespace: string): Promise<void> {
    return this.enqueue(namespace, { kind: 'drop' });
  }

  /** Namespaces that start with this prefix, for dropping every task's state of a connector. */
  async list(prefix: string): Promise<string[]> {
    const files = await readdir(this.dir).catch(() => [] as string[]);
    return files
      .filter((f) => f.endsWith('.json'))
      .map((f) => decodeURIComponent(f.slice(0, -'.json'.length)))
      .filter((ns) => ns.startsWith(prefix));
  }

  private enqueue(namespace: string, operation: Operation): Promise<void> {
    let batch = this.pending.get(namespace);
    if (!batch) this.pending.set(namespace, (batch = { operations: [], waiters: [] }));
    batch.operations.push(operation);
    const durable = new Promise<void>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    // flush() awaits before it can finish, so the entry is set before flush() removes it.
    if (!this.flushing.has(namespace)) this.flushing.set(namespace, this.flush(namespace));
    return durable;
  }

  /** Writes batches until none is waiting; a failed batch is not applied and fails its callers only. */
  private async flush(namespace: string): Promise<void> {
    for (;;) {
      const batch = this.pending.get(namespace);
      if (!batch) {
        // In the same step as finding nothing, so a write arriving next starts a new flush.
        this.flushing.delete(namespace);
        return;
      }
      this.pending.delete(namespace);
      try {
        let next: CheckpointEntries = { ...(await this.load(namespace)) };
        for (const operation of batch.operations) {
          if (operation.kind === 'drop') {
            next = {};
            continue;
          }
          for (const [key, value] of Object.entries(operation.changes)) {
            if (value === null || value === undefined) delete next[key];
            else next[key] = value;
          }
        }
        if (batch.operations[batch.operations.length - 1]!.kind === 'drop') await rm(this.fileOf(namespace), { force: true });
        else await writeFileAtomic(this.fileOf(namespace), JSON.stringify(next));
        this.cache.set(namespace, next);
        for (const waiter of batch.waiters) waiter.resolve();
      } catch (err) {
        for (const waiter of batch.waiters) waiter.reject(err);
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.flushing.values());
  }
}
