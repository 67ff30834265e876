/** Linux /proc readings of a process: resident memory (current and peak) and CPU time, per thread too. */
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** A field of /proc/<pid>/status in bytes (VmRSS, VmHWM); undefined once the process is gone. */
export function statusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** utime + stime in seconds from a /proc stat line (fields after the parenthesised comm). */
function cpuOfStat(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicks();
}

/** CPU seconds (user + system) the process has used so far, all threads; undefined once it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    return cpuOfStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds per thread name; the main thread is reported as "main", librdkafka's
 * threads are rdk:*. Node names its other threads "node": V8's platform workers (GC,
 * compiler) are created first, libuv's threadpool (zlib, fs, crypto, the Kafka
 * client's consume calls) last, when the entry module is loaded; so the last
 * `poolSize` of them are reported as "node:pool" and the others as "node:v8".
 */
export function cpuByThread(pid: number, poolSize = 4): Record<string, number> {
  const out: Record<string, number> = {};
  let tids: number[];
  try {
    tids = readdirSync(`/proc/${pid}/task`)
      .map(Number)
      .sort((a, b) => a - b);
  } catch {
    return out;
  }
  const named: { tid: number; name: string }[] = [];
  for (const tid of tids) {
    try {
      named.push({
        tid,
        name:
          tid === pid
            ? 'main'
            : readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8')
                .trim()
                .replace(/[-\d]+$/, '') || 'thread',
      });
    } catch {
      // The thread ended meanwhile.
    }
  }
  const node = named.filter((t) => t.name === 'node');
  node.forEach((t, i) => (t.name = i >= node.length - poolSize ? 'node:pool' : 'node:v8'));
  for (const { tid, name } of named) {
    try {
      out[name] = (out[name] ?? 0) + cpuOfStat(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
    } catch {
      // The thread ended meanwhile.
    }
  }
  for (const key of Object.keys(out)) out[key] = Math.round(out[key]! * 100) / 100;
  return out;
}

/** Polls VmRSS every `intervalMs` and keeps the highest value seen. */
export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  maxBytes = 0;
  samples = 0;

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 200,
  ) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    return this;
  }

  private sample(): void {
    const rss = statusBytes(this.pid, 'VmRSS');
    if (rss === undefined) return;
    this.samples++;
    if (rss > this.maxBytes) this.maxBytes = rss;
  }

  stop(): number {
    this.sample();
    clearInterval(this.timer);
    return this.maxBytes;
  }
}

/** The last lines of a log file, for an error message; says so when there is none. */
export function lastLines(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return `(no ${file})`;
  }
}
