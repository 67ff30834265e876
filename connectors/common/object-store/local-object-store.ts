import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { access, link, mkdir, open, readdir, readFile, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import {
  TransientStoreError,
  type FetchedObject,
  type LifecycleRule,
  type ObjectInfo,
  type ObjectMetadata,
  type ObjectStore,
  type PutOutcome,
  type StoredObject,
} from './object-store.js';

const META_DIR = '.coldstore-meta';
const TEMP_FILE = /\.tmp-\d+-[^/]+$/;

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  await handle.sync().finally(() => handle.close());
}

/** Replaces a file atomically (temp, fsync, rename, fsync of the directory). */
async function writeFileAtomic(path: string, data: string): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${randomUUID()}`;
  try {
    await writeDurably(temp, data);
    await rename(temp, path);
  } catch (err) {
    // A partial temp file (disk full) must not keep the space.
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await fsyncDir(dirname(path));
}

/** Opens a new file, creating its directory; once more if a delete removed the emptied directory in between. */
async function createFile(path: string) {
  for (let attempt = 0; ; attempt++) {
    await mkdir(dirname(path), { recursive: true });
    try {
      return await open(path, 'w');
    } catch (err) {
      if (!isMissing(err) || attempt > 0) throw err;
    }
  }
}

async function writeDurably(path: string, data: Buffer | string): Promise<void> {
  const file = await createFile(path);
  try {
    await file.writeFile(data);
    await file.sync();
  } finally {
    await file.close();
  }
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

/**
 * The embedded object store: a bucket is a directory under the root, an object a
 * file, its metadata a JSON file in a parallel tree (docs/formats.md). Keys that
 * would resolve outside the root are refused. Create-if-absent is atomic: the
 * object is written to a uniquely named temp file and hard-linked into place, which
 * fails if the key exists; only the creator then writes the metadata.
 */
export class LocalObjectStore implements ObjectStore {
  readonly description: string;
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.description = `local directory ${this.root}`;
  }

  private inside(...parts: string[]): string {
    const path = resolve(this.root, ...parts);
    const rel = relative(this.root, path);
    if (rel === '' || rel.startsWith('..') || rel.split(sep).includes('..') || resolve(this.root, rel) !== path) {
      throw new Error(`Object path ${parts.join('/')} escapes the store root ${this.root}`);
    }
    return path;
  }

  private objectPath(bucket: string, key: string): string {
    if (!key || key.includes('\0') || key.startsWith('/') || key.split('/').some((s) => s === '..' || s === '.' || s === '')) {
      throw new Error(`Invalid object key "${key}": keys are relative paths without empty, "." or ".." segments`);
    }
    this.checkBucket(bucket);
    return this.inside(bucket, key);
  }

  private checkBucket(bucket: string): void {
    if (!bucket || bucket.includes('/') || bucket.includes('\\') || bucket.startsWith('.')) throw new Error(`Invalid bucket name "${bucket}"`);
  }

  private metaPath(bucket: string, key: string): string {
    this.objectPath(bucket, key);
    return this.inside(META_DIR, bucket, `${key}.json`);
  }

  async ensureBucket(bucket: string): Promise<void> {
    this.checkBucket(bucket);
    await mkdir(this.inside(bucket), { recursive: true });
  }

  async putIfAbsent(bucket: string, key: string, body: Buffer, metadata: ObjectMetadata): Promise<PutOutcome> {
    return this.writing(key, () => this.createIfAbsent(bucket, key, body, metadata));
  }

  /** A full disk is an outage the operator fixes by freeing space: retried like an unreachable S3, not a failure. */
  private async writing<T>(key: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOSPC' && code !== 'EDQUOT') throw err;
      throw new TransientStoreError(`no space left in ${this.root} writing ${key} (${code}): free disk space; writes are retried until then`, { cause: err });
    }
  }

  private async createIfAbsent(bucket: string, key: string, body: Buffer, metadata: ObjectMetadata): Promise<PutOutcome> {
    const path = this.objectPath(bucket, key);
    const existing = await this.head(bucket, key);
    if (existing) return this.settleExisting(bucket, key, body, metadata, existing);
    const temp = `${path}.tmp-${process.pid}-${randomUUID()}`;
    try {
      await writeDurably(temp, body);
      // The hard link is the create-if-absent: exactly one writer gets the key.
      await link(temp, path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      return this.settleExisting(bucket, key, body, metadata, (await this.head(bucket, key))!);
    } finally {
      await unlink(temp).catch(() => undefined);
    }
    await fsyncDir(dirname(path));
    // Only the writer that created the object writes its metadata (atomically).
    await writeFileAtomic(this.metaPath(bucket, key), JSON.stringify(metadata));
    return { created: true };
  }

  /**
   * The key exists. If its metadata is missing (a writer died between the object and
   * its metadata), the object is completed when it holds exactly our bytes.
   */
  private async settleExisting(bucket: string, key: string, body: Buffer, metadata: ObjectMetadata, existing: StoredObject): Promise<PutOutcome> {
    if (Object.keys(existing.metadata).length > 0) return { created: false, existing };
    if ((await readFile(this.objectPath(bucket, key))).equals(body)) {
      await writeFileAtomic(this.metaPath(bucket, key), JSON.stringify(metadata));
      return { created: false, existing: { size: existing.size, metadata } };
    }
    // Different bytes: the creator may be writing its metadata right now; give it a moment.
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 20));
      const now = await this.head(bucket, key);
      if (now && Object.keys(now.metadata).length > 0) return { created: false, existing: now };
    }
    return { created: false, existing };
  }

  async head(bucket: string, key: string): Promise<StoredObject | undefined> {
    try {
      const info = await stat(this.objectPath(bucket, key));
      if (!info.isFile()) return undefined;
      const metadata = JSON.parse(await readFile(this.metaPath(bucket, key), 'utf8').catch(() => '{}')) as ObjectMetadata;
      return { size: info.size, metadata };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async put(bucket: string, key: string, body: Buffer, metadata: ObjectMetadata): Promise<void> {
    await this.writing(key, async () => {
      const path = this.objectPath(bucket, key);
      const temp = `${path}.tmp-${process.pid}-${randomUUID()}`;
      try {
        await writeDurably(temp, body);
        await rename(temp, path);
      } catch (err) {
        await unlink(temp).catch(() => undefined);
        throw err;
      }
      await fsyncDir(dirname(path));
      await writeFileAtomic(this.metaPath(bucket, key), JSON.stringify(metadata));
    });
  }

  async get(bucket: string, key: string): Promise<FetchedObject | undefined> {
    try {
      const body = await readFile(this.objectPath(bucket, key));
      const metadata = JSON.parse(await readFile(this.metaPath(bucket, key), 'utf8').catch(() => '{}')) as ObjectMetadata;
      return { body, metadata };
    } catch (err) {
      if (isMissing(err) || (err as NodeJS.ErrnoException).code === 'EISDIR') return undefined;
      throw err;
    }
  }

  async listDirectories(bucket: string, prefix: string): Promise<string[]> {
    this.checkBucket(bucket);
    if (prefix !== '' && !prefix.endsWith('/')) throw new Error(`Invalid directory prefix "${prefix}": it must end with /`);
    const dir = prefix === '' ? this.inside(bucket) : this.objectPath(bucket, prefix.slice(0, -1));
    try {
      const entries = await readdir(dir, { withFileTypes: true });
      return entries
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        .sort();
    } catch (err) {
      if (isMissing(err)) return [];
      throw err;
    }
  }

  async *list(bucket: string, prefix: string, startAfter?: string): AsyncIterable<ObjectInfo> {
    this.checkBucket(bucket);
    if (prefix.split('/').some((segment) => segment === '..' || segment === '.') || prefix.startsWith('/') || prefix.includes('\0')) {
      throw new Error(`Invalid list prefix "${prefix}": prefixes are relative paths without "." or ".." segments`);
    }
    const base = this.inside(bucket);
    const keys: ObjectInfo[] = [];
    // Only the directories the prefix can reach are walked.
    const fixedDir = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(join(base, dir), { withFileTypes: true });
      } catch (err) {
        if (isMissing(err)) return;
        throw err;
      }
      for (const entry of entries) {
        const key = dir ? `${dir}/${entry.name}` : entry.name;
        if (entry.isDirectory()) await walk(key);
        else if (entry.isFile() && key.startsWith(prefix) && !TEMP_FILE.test(key) && (startAfter === undefined || key > startAfter)) {
          const info = await stat(join(base, key));
          keys.push({ key, size: info.size, lastModified: info.mtimeMs });
        }
      }
    };
    await walk(fixedDir);
    keys.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    yield* keys;
  }

  async delete(bucket: string, key: string): Promise<void> {
    await rm(this.objectPath(bucket, key), { force: true });
    await rm(this.metaPath(bucket, key), { force: true });
    // S3 has no directories: an emptied "directory" must not show up in listDirectories.
    await removeEmptyParents(this.objectPath(bucket, key), this.inside(bucket));
    await removeEmptyParents(this.metaPath(bucket, key), this.root);
  }

  /** The root (or, before the first write, the directory it will be created in) must be writable. */
  async probe(_bucket: string, _signal: AbortSignal): Promise<void> {
    for (let dir = this.root; ; dir = dirname(dir)) {
      try {
        await access(dir, constants.W_OK);
        return;
      } catch (err) {
        if (!isMissing(err) || dirname(dir) === dir) throw new Error(`${this.description}: ${(err as Error).message}`, { cause: err });
      }
    }
  }

  async setLifecycle(_bucket: string, _rules: LifecycleRule[]): Promise<{ supported: boolean }> {
    return { supported: false };
  }
}

/** Removes the directories above `path` that are empty, up to (not including) `top`. */
async function removeEmptyParents(path: string, top: string): Promise<void> {
  for (let dir = dirname(path); dir.startsWith(`${top}/`); dir = dirname(dir)) {
    try {
      await rmdir(dir);
    } catch {
      return; // not empty (or already gone): the directories above it are not empty either
    }
  }
}
