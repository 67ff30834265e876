import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { listAfterAbandonedWrites, writeFileAtomic } from '../../../runtime/api/index.js';
import type { StreamRef } from '../../layouts/azul/event-fields.js';

/** A stream whose download or upload failed, kept on local disk until a retry stores it. */
export interface SpooledStream extends StreamRef {
  attempts: number;
  firstFailedAt: string;
  lastError: string;
}

const fileName = (ref: StreamRef) => `${ref.sha256}.${ref.source}.${ref.label}.json`;

/**
 * The spool: one small fsync'd file per failed stream in the connector's spool
 * directory, so a failed stream outlives the process. Every task of the connector
 * drains the same directory; two tasks retrying one entry is harmless (stores are
 * create-if-absent, removal ignores a missing file).
 */
export class StreamSpool {
  constructor(readonly dir: string) {}

  /** Durably records the failure; throws (e.g. ENOSPC) if it cannot, so the stream's events are not committed. */
  async add(ref: StreamRef, error: string): Promise<void> {
    const path = join(this.dir, fileName(ref));
    const previous = await this.read(path);
    const entry: SpooledStream = {
      source: ref.source,
      label: ref.label,
      sha256: ref.sha256,
      ...(ref.size === undefined ? {} : { size: ref.size }),
      attempts: (previous?.attempts ?? 0) + 1,
      firstFailedAt: previous?.firstFailedAt ?? new Date().toISOString(),
      lastError: error,
    };
    await writeFileAtomic(path, JSON.stringify(entry));
  }

  async remove(ref: StreamRef): Promise<void> {
    await rm(join(this.dir, fileName(ref)), { force: true });
  }

  /** Everything spooled, oldest failures first. Unreadable entries are skipped (a retry rewrites them). */
  async entries(): Promise<SpooledStream[]> {
    let names: string[];
    try {
      names = await listAfterAbandonedWrites(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const entries = (await Promise.all(names.filter((n) => n.endsWith('.json')).map((n) => this.read(join(this.dir, n))))).filter((e) => e !== undefined);
    return entries.sort((a, b) => a.firstFailedAt.localeCompare(b.firstFailedAt));
  }

  private async read(path: string): Promise<SpooledStream | undefined> {
    try {
      return JSON.parse(await readFile(path, 'utf8')) as SpooledStream;
    } catch {
      return undefined;
    }
  }
}
