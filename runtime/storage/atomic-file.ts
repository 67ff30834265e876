import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ColdstoreError, ErrorCodes } from '../api/errors.js';

let tempFiles = 0;
const TEMP_MARK = '.tmp-';

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
