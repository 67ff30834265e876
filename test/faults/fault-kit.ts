/**
 * Small pieces the fault tests share: starting a worker that may die at a failpoint
 * before it is healthy, reading task states over REST, random choices that are printed
 * (so a failing run can be understood), and the one-line summary each test prints.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { expect } from 'vitest';
import type { BrokerRecord } from '../helpers/broker-records.js';
import { checkCoverage, checkMetadata, readBundle, type BackedUpRecord } from '../helpers/bundle-reader.js';
import { fetchAll, recordCount } from '../helpers/s3.js';
import { metricSample } from '../helpers/test-app.js';
import type { WorkerProcess } from '../helpers/worker-process.js';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A random integer in [min, max]. */
export function randomInt(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}

export function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)]!;
}

/**
 * Starts the worker; resolves 'started' once /health answers 200, or 'died' if the process
 * ended first (a failpoint can be reached while stored connectors start, before /health).
 */
export async function startWorker(worker: WorkerProcess, files: string[], env: Record<string, string> = {}): Promise<'started' | 'died'> {
  return worker.startOrDie(files, env);
}

/** How the kills of runThenKill landed. */
export interface KillCounts {
  /** At a random moment after /health (or a failpoint not reached within 20 s). */
  random: number;
  /** During the start, 0–300 ms after /health. */
  startup: number;
  /** At the failpoint `backup.after-upload`: the n-th range's objects are stored, its offsets not committed. */
  afterUpload: number;
  /** At the failpoint `sink.before-commit`, right before the n-th offset commit. */
  beforeCommit: number;
}

export const noKills = (): KillCounts => ({ random: 0, startup: 0, afterUpload: 0, beforeCommit: 0 });

/**
 * Starts the worker on `files` and kills it with SIGKILL, the way picked at random: at a
 * random moment 0.3–4 s after it is healthy (half the runs), during its start (0–0.3 s), or
 * at a failpoint, `backup.after-upload@n` or `sink.before-commit@n` with n in 1–6 (SIGKILL
 * after 20 s if the point is not reached). Counts the kill and returns how it was done, for
 * the printed sequence.
 */
export async function runThenKill(worker: WorkerProcess, files: string[], kills: KillCounts): Promise<string> {
  const how = pick(['random', 'random', 'random', 'startup', 'failpoint', 'failpoint'] as const);
  if (how === 'failpoint') {
    const point = pick(['backup.after-upload', 'sink.before-commit'] as const);
    const nth = randomInt(1, 6);
    const outcome = await startWorker(worker, files, { COLDSTORE_FAILPOINTS: `${point}@${nth}` });
    const died = outcome === 'died' || (await Promise.race([worker.exited().then(() => true), sleep(20_000).then(() => false)]));
    if (died) {
      kills[point === 'backup.after-upload' ? 'afterUpload' : 'beforeCommit']++;
      return `${point}@${nth}`;
    }
    await worker.kill('SIGKILL');
    kills.random++;
    return `${point}@${nth}-not-reached:SIGKILL`;
  }
  expect(await startWorker(worker, files), logTail(worker)).toBe('started');
  const delay = how === 'startup' ? randomInt(0, 300) : randomInt(300, 4000);
  await sleep(delay);
  await worker.kill('SIGKILL');
  kills[how]++;
  return `${how}+${delay}ms`;
}

/** Waits until the bundles in `bucket` hold `expected` records; on a timeout the error carries the worker's log tail. */
export async function untilBackedUp(worker: WorkerProcess, client: S3Client, bucket: string, expected: number, timeoutMs: number): Promise<void> {
  await until(
    'every backed-up record in S3',
    async () => (recordCount(await fetchAll(client, bucket).catch(() => [])) >= expected ? true : undefined),
    timeoutMs,
    2_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${logTail(worker)}`);
  });
}

export interface TaskState {
  id: number;
  state: string;
  trace?: string;
  progress?: Record<string, unknown> & { records?: number };
}

/** The connector's tasks as GET /connectors/{name}/status shows them ([] while it has none). */
export async function tasksOf(worker: WorkerProcess, name: string): Promise<TaskState[]> {
  const { status, body } = await worker.api('GET', `/connectors/${encodeURIComponent(name)}/status`);
  if (status !== 200) return [];
  return (body?.tasks ?? []) as TaskState[];
}

/**
 * Polls `check` until it returns a value; unlike waitFor, an error thrown by `check` ends
 * the wait at once (a task that FAILED will not recover by itself).
 */
export async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** A sink connector's committed offsets (the next offset to consume) by `topic/partition`, as GET /connectors/{name}/offsets shows them. */
export async function committedOffsets(worker: WorkerProcess, name: string): Promise<Map<string, number>> {
  const { status, body } = await worker.api('GET', `/connectors/${encodeURIComponent(name)}/offsets`);
  const out = new Map<string, number>();
  if (status !== 200) return out;
  for (const entry of (body?.offsets ?? []) as { partition: { kafka_topic: string; kafka_partition: number }; offset: { kafka_offset: number } | null }[]) {
    if (entry.offset) out.set(`${entry.partition.kafka_topic}/${entry.partition.kafka_partition}`, Number(entry.offset.kafka_offset));
  }
  return out;
}

/** Waits until every task of the connector is FINISHED; fails at once, with the trace, if one FAILED. */
export async function waitFinished(worker: WorkerProcess, name: string, timeoutMs = 180_000): Promise<TaskState[]> {
  let last: TaskState[] = [];
  return until(
    `${name} FINISHED`,
    async () => {
      last = await tasksOf(worker, name).catch(() => last);
      const failed = last.find((t) => t.state === 'FAILED');
      if (failed) throw new Error(`${name} task ${failed.id} FAILED: ${failed.trace}`);
      return last.length > 0 && last.every((t) => t.state === 'FINISHED') ? last : undefined;
    },
    timeoutMs,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last status: ${JSON.stringify(last)}`);
  });
}

/**
 * The tasks once each has either finished or started its work (shows progress per
 * partition), so a task about to find its FINISHED marker is not taken for a running one.
 */
export async function settledTasks(worker: WorkerProcess, name: string, timeoutMs = 60_000): Promise<TaskState[]> {
  return until(
    `${name} tasks settled`,
    async () => {
      const tasks = await tasksOf(worker, name);
      const started = (t: TaskState) => Object.keys((t.progress?.['partitions'] as object | undefined) ?? {}).length > 0;
      return tasks.length > 0 && tasks.every((t) => t.state === 'FINISHED' || t.state === 'FAILED' || started(t)) ? tasks : undefined;
    },
    timeoutMs,
    100,
  );
}

/** The sum of a connector's restored records over its tasks (the status' progress). */
export async function restoredCount(worker: WorkerProcess, name: string): Promise<number> {
  return (await tasksOf(worker, name)).reduce((n, t) => n + (Number(t.progress?.records) || 0), 0);
}

/** Asserts the worker answers GET /health with 200. */
export async function expectHealthy(worker: WorkerProcess): Promise<void> {
  const res = await fetch(`${worker.url}/health`);
  expect(res.status).toBe(200);
}

/** A sample of GET /metrics summed over series matching the labels (0 when there is none). */
export async function metricTotal(worker: WorkerProcess, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${worker.url}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const value = metricSample(line, name, labels);
    if (value !== undefined) total += value;
  }
  return total;
}

/** The last lines of the worker's log, for assertion messages. */
export function logTail(worker: WorkerProcess, lines = 40): string {
  if (!existsSync(worker.logPath)) return '';
  return readFileSync(worker.logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

const SUMMARY_FILE = resolve(import.meta.dirname, '..', '..', '.data', 'faults-summary.log');

/**
 * Prints the test's one-line summary (and appends it to .data/faults-summary.log, so a
 * whole run's results are in one place): runs, faults injected, records checked, lost,
 * duplicated, plus anything else worth knowing.
 */
export function summary(test: string, fields: Record<string, string | number>): string {
  const line = `[faults] ${test}: ${Object.entries(fields)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')}`;
  console.info(line);
  try {
    mkdirSync(dirname(SUMMARY_FILE), { recursive: true });
    appendFileSync(SUMMARY_FILE, `${new Date().toISOString()} ${line}\n`);
  } catch {
    // Best effort: the console line is what counts.
  }
  return line;
}

export function sumBy<T>(items: readonly T[], f: (item: T) => number): number {
  return items.reduce((n, item) => n + f(item), 0);
}

type ComparableRecord = Omit<BrokerRecord, 'topic' | 'partition'>;

const sameBytes = (a: Buffer | null, b: Buffer | null) => (a === null || b === null ? a === b : a.equals(b));

/** What differs between a backed-up record and the broker's (empty when they are the same, byte for byte). */
export function recordDifferences(backedUp: ComparableRecord, broker: ComparableRecord): string[] {
  const out: string[] = [];
  if (!sameBytes(backedUp.key, broker.key)) out.push('key');
  if (!sameBytes(backedUp.value, broker.value)) out.push('value');
  if (backedUp.timestamp !== broker.timestamp) out.push('timestamp');
  if (backedUp.timestampType !== broker.timestampType) out.push('timestampType');
  if (
    backedUp.headers.length !== broker.headers.length ||
    backedUp.headers.some((h, i) => h.key !== broker.headers[i]!.key || !sameBytes(h.value, broker.headers[i]!.value))
  ) {
    out.push('headers');
  }
  return out;
}

export interface ExactlyOnceReport {
  bundles: number;
  /** Records in the bundles. */
  records: number;
  /** Source records found in no bundle. */
  lost: number;
  /** Extra copies of source records (a record in two bundles counts once here). */
  duplicated: number;
  /** Records whose bytes differ from the source's, or that the source does not have. */
  mismatched: number;
  /** Every problem found, each naming the object or the offset. */
  problems: string[];
}

/**
 * The coverage checker: proves that the bundles (read with the independent reader of
 * test/helpers/bundle-reader.ts) hold every source record of every partition exactly once,
 * byte for byte, and that their keys tile each partition from offset 0 with no gap and no
 * overlap. Counts instead of stopping at the first problem, so a summary can say how bad.
 * `tiles: false` leaves the tiling out, for bundles that hold only some ranges (e.g. the
 * azul layout's rejects).
 */
export function proveExactlyOnce<S extends { partition: number; offset: bigint }>(
  topic: string,
  partitions: number,
  objects: { key: string; body: Buffer; metadata: Record<string, string> }[],
  source: readonly S[],
  differences: (backedUp: BackedUpRecord, source: S) => string[],
  options: { tiles?: boolean } = {},
): ExactlyOnceReport {
  const problems: string[] = [];
  const at = (p: number, o: bigint) => `${p}/${o}`;
  const bySource = new Map(source.map((r) => [at(r.partition, r.offset), r]));
  const copies = new Map<string, number>();
  let records = 0;
  let mismatched = 0;
  for (const object of objects) {
    let read: BackedUpRecord[];
    try {
      read = readBundle(object.key, object.body).records;
      checkMetadata(object.key, object.body, object.metadata, read);
    } catch (err) {
      problems.push((err as Error).message);
      continue;
    }
    for (const r of read) {
      records++;
      const where = at(r.partition, r.offset);
      copies.set(where, (copies.get(where) ?? 0) + 1);
      const original = bySource.get(where);
      const diff = original ? differences(r, original) : ['not in the source'];
      if (diff.length > 0) {
        mismatched++;
        if (problems.length < 20) problems.push(`${object.key}: record ${where} differs from the source (${diff.join(', ')})`);
      }
    }
  }
  let lost = 0;
  for (const r of source) {
    if (copies.has(at(r.partition, r.offset))) continue;
    lost++;
    if (problems.length < 20) problems.push(`record ${at(r.partition, r.offset)} is in no bundle`);
  }
  let duplicated = 0;
  for (const n of copies.values()) duplicated += n - 1;
  if (options.tiles ?? true)
    problems.push(
      ...coverageProblems(
        topic,
        partitions,
        objects.map((o) => o.key),
        source,
      ),
    );
  return { bundles: objects.length, records, lost, duplicated, mismatched, problems };
}

/**
 * How kafka-v1 keys (`<topic>/<partition>/<start>-<end>.avro.gz`) fail to tile each
 * partition from offset 0 to the last offset of `source`: an overlap or a gap (the first
 * one found), a late start, an early end. Empty when they tile.
 */
export function coverageProblems(topic: string, partitions: number, keys: string[], source: readonly { partition: number; offset: bigint }[]): string[] {
  const problems: string[] = [];
  try {
    const ranges = checkCoverage(keys);
    for (let p = 0; p < partitions; p++) {
      const list = ranges.get(`${topic}/${p}`) ?? [];
      const last = source.filter((r) => r.partition === p).reduce((max, r) => (r.offset > max ? r.offset : max), -1n);
      if (last < 0n) continue;
      if (list[0]?.start !== 0n) problems.push(`${topic}/${p}: the first bundle starts at ${list[0]?.start}, not 0`);
      if ((list[list.length - 1]?.end ?? -1n) < last)
        problems.push(`${topic}/${p}: the bundles end at ${list[list.length - 1]?.end}, before the last offset ${last}`);
    }
  } catch (err) {
    problems.push((err as Error).message);
  }
  return problems;
}

/**
 * The bundles of a bucket of the local object store, with their metadata, in the shape
 * fetchAll gives for S3 (docs/formats.md: objects under <root>/<bucket>, metadata as JSON
 * under <root>/.coldstore-meta/<bucket>/<key>.json).
 */
export function localBundles(root: string, bucket: string): { key: string; body: Buffer; metadata: Record<string, string> }[] {
  const base = join(root, bucket);
  const out: { key: string; body: Buffer; metadata: Record<string, string> }[] = [];
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.avro.gz')) {
        const key = relative(base, path);
        const meta = join(root, '.coldstore-meta', bucket, `${key}.json`);
        out.push({ key, body: readFileSync(path), metadata: existsSync(meta) ? (JSON.parse(readFileSync(meta, 'utf8')) as Record<string, string>) : {} });
      }
    }
  };
  walk(base);
  return out.sort((a, b) => (a.key < b.key ? -1 : 1));
}

/**
 * A small file system of its own, to fill up: a tmpfs (root can mount one), else an ext4
 * image on a loop device. Throws, saying so, when neither can be mounted here.
 */
export class SmallDisk {
  private readonly image: string;
  readonly kind: 'tmpfs' | 'loop';
  private ballasts = 0;

  constructor(
    readonly path: string,
    sizeMb: number,
  ) {
    mkdirSync(path, { recursive: true });
    this.image = `${path}.img`;
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', path], { stdio: 'pipe' });
      this.kind = 'tmpfs';
      return;
    } catch (tmpfsError) {
      try {
        execFileSync('truncate', ['-s', `${Math.max(sizeMb, 4)}M`, this.image], { stdio: 'pipe' });
        execFileSync('mkfs.ext4', ['-q', '-F', '-m', '0', this.image], { stdio: 'pipe' });
        execFileSync('mount', ['-o', 'loop', this.image, path], { stdio: 'pipe' });
        this.kind = 'loop';
      } catch (loopError) {
        rmSync(this.image, { force: true });
        throw new Error(
          `cannot mount a small file system to fill up (this test needs root): tmpfs: ${(tmpfsError as Error).message.trim()}; loop device: ${(loopError as Error).message.trim()}`,
        );
      }
    }
  }

  /** Writes a ballast file of `bytes` (all the space left if undefined); returns its size. */
  fill(bytes?: number): number {
    const file = join(this.path, `ballast-${this.ballasts++}`);
    const fd = openSync(file, 'w');
    const chunk = Buffer.alloc(64 * 1024, 0x5a);
    let written = 0;
    try {
      while (bytes === undefined || written < bytes) {
        const n = bytes === undefined ? chunk.length : Math.min(chunk.length, bytes - written);
        try {
          written += writeSync(fd, chunk, 0, n);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC' && bytes === undefined) break;
          throw err;
        }
      }
    } finally {
      closeSync(fd);
    }
    // A few bytes may still fit (a partial block): fill those too when filling up.
    if (bytes === undefined) {
      const rest = openSync(file, 'a');
      try {
        for (;;) writeSync(rest, Buffer.alloc(1));
      } catch {
        // Full.
      } finally {
        closeSync(rest);
      }
    }
    return written;
  }

  /** Frees the space the ballast files took. */
  free(): void {
    for (let i = 0; i < this.ballasts; i++) rmSync(join(this.path, `ballast-${i}`), { force: true });
  }

  /** Unmounts (lazily, if something still holds a file open) and removes everything. */
  destroy(): void {
    try {
      execFileSync('umount', ['-l', this.path], { stdio: 'pipe' });
    } catch {
      // Not mounted any more.
    }
    rmSync(this.image, { force: true });
    rmSync(this.path, { recursive: true, force: true });
  }
}
