/** A coldstore worker as a real process (the built CLI), started empty so a connector's start can be timed over REST. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort } from '../helpers/worker-process.js';
import { cpuByThread, cpuSeconds, RssSampler, statusBytes } from './proc.js';
import { track, untrack } from './children.js';
import { restCall } from '../helpers/rest.js';
import type { ServerCpu } from './servers.js';

const CLI = resolve(import.meta.dirname, '../../dist/app/cli/main.cjs');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface WorkerOptions {
  dir: string;
  bootstrap: string;
  /** Extra worker settings (offset.flush.interval.ms, …). */
  config?: Record<string, unknown>;
  /** Directory for `node --cpu-prof` output; no profiling when absent. */
  profileDir?: string;
}

/** What the process used, read just before it is stopped. */
/** What every timed run of a worker reports: its clock, the data it moved, its own and the servers' CPU. */
export interface WorkerRunFigures {
  seconds: number;
  records: number;
  bytes: number;
  mbPerSec: number;
  recordsPerSec: number;
  usage: WorkerUsage;
  /** CPU seconds the Kafka broker and S3Proxy used during the run. */
  servers: ServerCpu;
}

export interface WorkerUsage {
  /** VmHWM: the kernel's peak resident set size of the process. */
  peakRssBytes: number;
  /** Highest VmRSS seen by polling every 200 ms (should agree with VmHWM). */
  sampledPeakRssBytes: number;
  /** CPU seconds since markStart() (all threads), and by thread name. */
  cpuSeconds: number;
  cpuByThread: Record<string, number>;
}

export interface TaskStatus {
  id: number;
  state: string;
  trace?: string;
  progress?: Record<string, unknown> & { partitions?: { topic: string; partition: number; committed_offset: number | null }[] };
}

export class BenchWorker {
  private cpuAtStart = 0;
  /** libuv's threadpool size in the worker: what the environment says, else what app/cli/main.cts sets (64). */
  private readonly poolSize = Number(process.env['UV_THREADPOOL_SIZE']) || 64;
  private threadsAtStart: Record<string, number> = {};

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly logPath: string,
    private readonly sampler: RssSampler,
  ) {}

  get pid(): number {
    return this.child.pid!;
  }

  static async start(options: WorkerOptions): Promise<BenchWorker> {
    mkdirSync(options.dir, { recursive: true });
    const port = await freePort();
    const configPath = join(options.dir, 'worker.json');
    const logPath = join(options.dir, 'worker.log');
    writeFileSync(
      configPath,
      JSON.stringify({
        'bootstrap.servers': options.bootstrap,
        'rest.port': port,
        'data.dir': join(options.dir, 'data'),
        'worker.id': 'bench',
        ...options.config,
      }),
    );
    const profile = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(options.profileDir)}`] : [];
    const child = spawn(process.execPath, [...profile, CLI, 'worker', '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    const log = createWriteStream(logPath, { flags: 'a' });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`worker exited with ${child.exitCode ?? child.signalCode}; see ${logPath}`);
      const res = await fetch(`${url}/health`).catch(() => undefined);
      if (res?.status === 200) break;
      if (Date.now() > deadline) throw new Error(`worker did not answer on ${url}; see ${logPath}`);
      await sleep(100);
    }
    return new BenchWorker(child, url, logPath, new RssSampler(child.pid!).start());
  }

  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    return restCall(this.url, method, path, body);
  }

  /** Prometheus text of GET /metrics; empty if the worker does not answer. */
  async metricsText(): Promise<string> {
    const res = await fetch(`${this.url}/metrics`).catch(() => undefined);
    return res?.ok ? res.text() : '';
  }

  async createConnector(name: string, config: Record<string, string>): Promise<void> {
    const res = await this.api('POST', '/connectors', { name, config });
    if (res.status !== 201 && res.status !== 200) throw new Error(`creating ${name}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  }

  /** The connector's tasks; throws with the trace when one FAILED. */
  async tasks(name: string): Promise<TaskStatus[]> {
    const res = await this.api('GET', `/connectors/${name}/status`);
    if (res.status !== 200) return [];
    const tasks = (res.body?.tasks ?? []) as TaskStatus[];
    const failed = tasks.find((t) => t.state === 'FAILED');
    if (failed) throw new Error(`${name} task ${failed.id} FAILED: ${failed.trace ?? '(no trace)'}; see ${this.logPath}`);
    if (this.child.exitCode !== null || this.child.signalCode !== null)
      throw new Error(`worker exited with ${this.child.exitCode ?? this.child.signalCode}; see ${this.logPath}`);
    return tasks;
  }

  /** Committed offsets per partition of `topic` as the sink tasks report them. */
  async committed(name: string, topic: string): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    for (const task of await this.tasks(name)) {
      for (const p of task.progress?.partitions ?? []) if (p.topic === topic && p.committed_offset !== null) out.set(p.partition, p.committed_offset);
    }
    return out;
  }

  /** Waits until the sink's tasks own all `partitions` of `topic`. */
  async untilOwned(name: string, topic: string, partitions: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const tasks = await this.tasks(name);
      const owned = tasks.flatMap((t) => t.progress?.partitions ?? []).filter((p) => p.topic === topic).length;
      if (owned === partitions) return;
      if (Date.now() > deadline) throw new Error(`the sink did not take all ${partitions} partitions of ${topic}`);
      await sleep(200);
    }
  }

  /** Marks the start of the measured work: CPU figures count from here. */
  markStart(): void {
    this.cpuAtStart = cpuSeconds(this.pid) ?? 0;
    this.threadsAtStart = cpuByThread(this.pid, this.poolSize);
  }

  usage(): WorkerUsage {
    const threads = cpuByThread(this.pid, this.poolSize);
    for (const [name, seconds] of Object.entries(threads)) threads[name] = Math.round((seconds - (this.threadsAtStart[name] ?? 0)) * 100) / 100;
    return {
      peakRssBytes: statusBytes(this.pid, 'VmHWM') ?? this.sampler.maxBytes,
      sampledPeakRssBytes: this.sampler.maxBytes,
      cpuSeconds: Math.round(((cpuSeconds(this.pid) ?? Number.NaN) - this.cpuAtStart) * 100) / 100,
      cpuByThread: threads,
    };
  }

  /** SIGTERM (tasks flush and commit; a CPU profile is written), SIGKILL after 60 s. */
  async stop(): Promise<number | null> {
    this.sampler.stop();
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    const ended = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await ended;
    clearTimeout(timer);
    untrack(child);
    return code;
  }
}

/** Sum and count of a Prometheus histogram (all label sets together); undefined when absent. */
export function histogramTotals(text: string, name: string): { sum: number; count: number } | undefined {
  let sum = 0;
  let count = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^(\S+?)(?:\{[^}]*\})?\s+([0-9.eE+-]+)/.exec(line);
    if (!m) continue;
    if (m[1]!.endsWith('_sum')) {
      sum += Number(m[2]);
      found = true;
    } else if (m[1]!.endsWith('_count')) count += Number(m[2]);
  }
  return found ? { sum, count } : undefined;
}
