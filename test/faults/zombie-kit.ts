/**
 * Helpers of the zombie fault suite (zombie-pause.test.ts): paused workers (SIGSTOP
 * past the session timeout, or stopped by themselves at a failpoint), seeded choices,
 * bundle tiling read from keys, and a worker's stored sink offsets.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parseBundleKey } from '../helpers/bundle-reader.js';
import { listKeys, type FetchedObject } from '../helpers/s3.js';
import type { WorkerProcess } from '../helpers/worker-process.js';
import { sleep, type TaskState } from './fault-kit.js';

/** A seeded pseudo-random source (mulberry32), so the choices of a run can be replayed from its printed seed. */
export class SeededRandom {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** The seed in the environment variable `name` if set (to replay a run), else a new one. */
  static fromEnv(name: string): SeededRandom {
    const given = process.env[name];
    return new SeededRandom(given ? Number(given) : Math.floor(Math.random() * 2 ** 31));
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
}

export interface NamedWorker {
  name: string;
  worker: WorkerProcess;
}

/**
 * Holds paused workers past the consumer session timeout, then resumes them (SIGCONT):
 * those the test pauses (pause()) and those that stopped themselves at a `:stop` failpoint,
 * which it finds by polling /proc every 100 ms. `onStopped` runs while the worker is still
 * stopped (e.g. to copy its data dir as it is). Each hold is logged in `sequence`.
 */
export class Pauser {
  readonly sequence: string[] = [];
  testPauses = 0;
  selfStops = 0;
  private readonly held = new Map<WorkerProcess, Promise<void>>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly workers: readonly NamedWorker[],
    private readonly rng: SeededRandom,
    private readonly holdMs: readonly [number, number],
    private readonly onStopped: (w: NamedWorker, how: string) => void = () => undefined,
  ) {
    this.timer = setInterval(() => {
      for (const w of this.workers) {
        if (this.held.has(w.worker) || !w.worker.isStopped()) continue;
        this.selfStops++;
        void this.hold(w, 'self-stop');
      }
    }, 100);
  }

  /** SIGSTOPs the worker, holds it, SIGCONTs it; resolves once it runs again. */
  pause(w: NamedWorker): Promise<void> {
    if (this.held.has(w.worker)) return this.held.get(w.worker)!;
    this.testPauses++;
    w.worker.pause();
    return this.hold(w, 'sigstop');
  }

  get anyStopped(): boolean {
    return this.held.size > 0 || this.workers.some((w) => w.worker.isStopped());
  }

  /** Resolves once no worker is stopped. */
  async idle(): Promise<void> {
    while (this.anyStopped) await Promise.all([...this.held.values(), sleep(100)]);
  }

  private hold(w: NamedWorker, how: string): Promise<void> {
    const ms = this.rng.int(this.holdMs[0], this.holdMs[1]);
    const at = new Date().toISOString().slice(11, 19);
    this.sequence.push(`${at}:${w.name}:${how}:${ms}ms`);
    const held = (async () => {
      // SIGSTOP lands asynchronously: act on the stopped process only once /proc says so.
      for (let i = 0; i < 40 && !w.worker.isStopped(); i++) await sleep(25);
      this.onStopped(w, how);
      await sleep(ms);
      w.worker.resume();
      for (let i = 0; i < 20 && w.worker.isStopped(); i++) await sleep(50);
      this.held.delete(w.worker);
    })();
    this.held.set(w.worker, held);
    return held;
  }

  /** Stops watching and resumes every worker. */
  close(): void {
    clearInterval(this.timer);
    for (const w of this.workers) w.worker.resume();
  }
}

/** The connector's tasks over REST, or undefined if the worker does not answer within `ms` (a stopped one never does). */
export async function tasksWithin(worker: WorkerProcess, name: string, ms: number): Promise<TaskState[] | undefined> {
  try {
    const res = await fetch(`${worker.url}/connectors/${encodeURIComponent(name)}/status`, { signal: AbortSignal.timeout(ms) });
    return res.status === 200 ? (((await res.json()) as { tasks?: TaskState[] }).tasks ?? []) : undefined;
  } catch {
    return undefined;
  }
}

/** Polls the running workers' task states every 2 s and keeps the first trace of each task that FAILED. */
export function watchFailures(workers: readonly NamedWorker[], connector: string): { failures: Map<string, string>; stop: () => void } {
  const failures = new Map<string, string>();
  let polling = false;
  const timer = setInterval(async () => {
    if (polling) return;
    polling = true;
    for (const w of workers) {
      if (w.worker.pid === undefined || w.worker.isStopped()) continue;
      for (const t of (await tasksWithin(w.worker, connector, 1_500)) ?? []) {
        if (t.state === 'FAILED' && !failures.has(`${w.name} task ${t.id}`)) failures.set(`${w.name} task ${t.id}`, t.trace ?? '(no trace)');
      }
    }
    polling = false;
  }, 2_000);
  return { failures, stop: () => clearInterval(timer) };
}

/**
 * A partition's bundle keys (kafka-v1, `<topic>/<partition>/<start>-<end>.avro.gz`), sorted by
 * start then end; keys the independent reader refuses (e.g. start > end) are listed in `invalid`.
 */
export function bundleRanges(
  topic: string,
  keys: readonly string[],
): { ranges: Map<number, { key: string; start: bigint; end: bigint }[]>; invalid: string[] } {
  const ranges = new Map<number, { key: string; start: bigint; end: bigint }[]>();
  const invalid: string[] = [];
  for (const key of keys) {
    if (key.includes('~coldstore/') || !key.startsWith(`${topic}/`)) continue;
    let parsed: ReturnType<typeof parseBundleKey>;
    try {
      parsed = parseBundleKey(key);
    } catch (err) {
      invalid.push((err as Error).message);
      continue;
    }
    let list = ranges.get(parsed.partition);
    if (!list) ranges.set(parsed.partition, (list = []));
    list.push({ key, start: parsed.start, end: parsed.end });
  }
  for (const list of ranges.values()) list.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.end < b.end ? -1 : a.end > b.end ? 1 : 0));
  return { ranges, invalid };
}

/**
 * Every way the bundles of each partition fail to tile offsets [0, counts[p]): sorted by
 * start, each must start at the previous end + 1. Overlaps name both keys; gaps and
 * uncovered ends name the offsets; invalid keys say why.
 */
export function tilingProblems(
  topic: string,
  keys: readonly string[],
  counts: readonly number[],
): { overlaps: string[]; gaps: string[]; invalid: string[]; missing: bigint } {
  const overlaps: string[] = [];
  const gaps: string[] = [];
  let missing = 0n;
  const { ranges, invalid } = bundleRanges(topic, keys);
  counts.forEach((count, p) => {
    const list = ranges.get(p) ?? [];
    let next = 0n;
    let previous = '';
    for (const r of list) {
      const name = r.key.slice(topic.length + 1);
      if (r.start > next) {
        gaps.push(`${topic}/${p}: offsets ${next}..${r.start - 1n} are in no bundle (next: ${name})`);
        missing += r.start - next;
      } else if (r.start < next)
        overlaps.push(`${topic}/${p}: ${name} overlaps ${previous} (offsets ${r.start}..${r.end < next - 1n ? r.end : next - 1n} twice)`);
      if (r.end + 1n > next) {
        next = r.end + 1n;
        previous = name;
      }
    }
    if (next < BigInt(count)) {
      gaps.push(`${topic}/${p}: offsets ${next}..${count - 1} are in no bundle (last produced ${count - 1})`);
      missing += BigInt(count) - next;
    }
  });
  return { overlaps, gaps, invalid, missing };
}

/**
 * Waits until the bundle keys cover offsets [0, counts[p]) of every partition, while that
 * makes progress: returns what is still uncovered ([] when covered) once nothing more was
 * covered for `stallMs`, or at `timeoutMs`.
 */
export async function untilCovered(
  client: S3Client,
  bucket: string,
  topic: string,
  counts: readonly number[],
  stallMs: number,
  timeoutMs: number,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let least: bigint | undefined;
  let progressAt = Date.now();
  for (;;) {
    const { gaps, missing } = tilingProblems(topic, await listKeys(client, bucket).catch(() => []), counts);
    if (least === undefined || missing < least) [least, progressAt] = [missing, Date.now()];
    if (gaps.length === 0 || Date.now() > deadline || Date.now() - progressAt > stallMs) return gaps;
    await sleep(1_000);
  }
}

/** Every object of the bucket that is a bundle (not under `~coldstore/`), with body and metadata, `concurrency` at a time. */
export async function fetchBundles(client: S3Client, bucket: string, concurrency = 8): Promise<FetchedObject[]> {
  const keys = (await listKeys(client, bucket)).filter((k) => !k.includes('~coldstore/'));
  const out: FetchedObject[] = new Array(keys.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < keys.length) {
        const i = next++;
        const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: keys[i]! }));
        out[i] = { key: keys[i]!, body: Buffer.from(await got.Body!.transformToByteArray()), metadata: got.Metadata ?? {} };
      }
    }),
  );
  return out;
}

/** How many lines of a worker's log (pino JSON lines) have each of these `msg` values. */
export function logMessageCounts(logPath: string, messages: readonly string[]): Record<string, number> {
  const counts = Object.fromEntries(messages.map((m) => [m, 0]));
  if (!existsSync(logPath)) return counts;
  for (const line of readFileSync(logPath, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const msg = (JSON.parse(line) as { msg?: string }).msg;
      if (msg !== undefined && msg in counts) counts[msg]!++;
    } catch {
      // A line cut by a kill: not a message.
    }
  }
  return counts;
}

/** The failpoints at which the worker stopped itself (`failpoint <name> reached (hit n): stopping the process`), by name. */
export function failpointStops(logPath: string): Record<string, number> {
  const out: Record<string, number> = {};
  if (!existsSync(logPath)) return out;
  for (const m of readFileSync(logPath, 'utf8').matchAll(/^failpoint (\S+) reached \(hit \d+\): stopping the process$/gm)) out[m[1]!] = (out[m[1]!] ?? 0) + 1;
  return out;
}

/** Where a worker keeps a sink connector's stored offsets: namespace `sink-offsets/<connector>` of its checkpoint store. */
export function sinkOffsetsPath(dataDir: string, connector: string): string {
  return join(dataDir, 'checkpoints', `${encodeURIComponent(`sink-offsets/${connector}`)}.json`);
}

/** The stored sink offsets (`topic/partition` → next offset, a decimal string); edit only with the worker stopped. */
export function readSinkOffsets(dataDir: string, connector: string): Record<string, string> {
  const path = sinkOffsetsPath(dataDir, connector);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>) : {};
}

export function writeSinkOffsets(dataDir: string, connector: string, offsets: Record<string, string>): void {
  writeFileSync(sinkOffsetsPath(dataDir, connector), JSON.stringify(offsets));
}

/** The partitions of each `partitions assigned` line of a worker's log, in order (the runtime logs one per assignment). */
export function assignments(logPath: string): string[][] {
  if (!existsSync(logPath)) return [];
  return readFileSync(logPath, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes('"partitions assigned"'))
    .flatMap((line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; partitions?: string[] };
        return entry.msg === 'partitions assigned' ? [entry.partitions ?? []] : [];
      } catch {
        return [];
      }
    });
}
