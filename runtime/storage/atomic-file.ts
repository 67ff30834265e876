import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ColdstoreError, ErrorCodes } from '../api/errors.js';

let tempFiles = 0;
const TEMP_MARK = '.tmp-';
/** A temp file this old is from a killed process, not a write in progress. */
const ABANDONED_TEMP_MS = 10 * 60_000;

/**
 * Replaces a file so that a crash at any moment leaves either the old or the
 * new content, never a mix: write a temp file, fsync it, rename it over the
 * target, fsync the directory so the rename itself is durable.
 */
export async function writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
  const dir = dirname(path);
  // Unique per call: two writers of one path in this process must not share a temp file.
  const tmp = `${path}${TEMP_MARK}${process.pid}-${++tempFiles}`;
  try {
    await mkdir(dir, { recursive: true });
    const file = await open(tmp, 'w');
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
    await fsyncDir(dir);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new ColdstoreError(
      ErrorCodes.STORE_IO,
      `Cannot write ${path}: ${(err as Error).message}. Check that the data directory is writable and the disk is not full.`,
      { cause: err },
    );
  }
}

/**
 * Removes the temp files writeFileAtomic left in `dir` when its process was killed
 * mid-write (only those older than any write in progress), and returns the names
 * of the other files.
 */
export async function listAfterAbandonedWrites(dir: string): Promise<string[]> {
  const names = await readdir(dir);
  const before = Date.now() - ABANDONED_TEMP_MS;
  for (const name of names.filter((n) => n.includes(TEMP_MARK))) {
    const path = join(dir, name);
    const info = await stat(path).catch(() => undefined);
    if (info && info.mtimeMs < before) await rm(path, { force: true });
  }
  return names.filter((n) => !n.includes(TEMP_MARK));
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The parsed JSON content, or undefined when the file does not exist. */
export async function readJsonFile<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ColdstoreError(ErrorCodes.STORE_IO, `Cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new ColdstoreError(ErrorCodes.STORE_IO, `${path} is not valid JSON (${(err as Error).message}); restore it from a copy or remove it to start over.`, {
      cause: err,
    });
  }
}
