/** CPU used by the stack's servers (Kafka broker, S3Proxy) during a run, when this checkout's stack runs them. */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cpuSeconds } from './proc.js';

const STACK_DIR = resolve(import.meta.dirname, '../../.stack');

export interface ServerCpu {
  kafkaCpuSeconds?: number;
  s3CpuSeconds?: number;
}

function pidOf(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(STACK_DIR, file), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function serverCpu(): ServerCpu {
  const kafka = pidOf('kafka/kafka.pid');
  const s3 = pidOf('s3proxy/s3proxy.pid');
  const k = kafka === undefined ? undefined : cpuSeconds(kafka);
  const s = s3 === undefined ? undefined : cpuSeconds(s3);
  return { ...(k !== undefined ? { kafkaCpuSeconds: k } : {}), ...(s !== undefined ? { s3CpuSeconds: s } : {}) };
}

export function serverCpuSince(before: ServerCpu): ServerCpu {
  const now = serverCpu();
  const diff = (a?: number, b?: number) => (a !== undefined && b !== undefined ? Math.round((a - b) * 100) / 100 : undefined);
  const k = diff(now.kafkaCpuSeconds, before.kafkaCpuSeconds);
  const s = diff(now.s3CpuSeconds, before.s3CpuSeconds);
  return { ...(k !== undefined ? { kafkaCpuSeconds: k } : {}), ...(s !== undefined ? { s3CpuSeconds: s } : {}) };
}

/** The servers' CPU per MB of records over some runs (medians), for a figure's note and details. */
export function serverCpuPerMb(runs: readonly { servers: ServerCpu; bytes: number }[]): { kafkaMsPerMb?: number; s3MsPerMb?: number; note: string } {
  const median = (values: number[]) => (values.length === 0 ? undefined : [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]);
  const perMb = (pick: (s: ServerCpu) => number | undefined) =>
    median(runs.flatMap((r) => (pick(r.servers) === undefined ? [] : [(pick(r.servers)! * 1000) / (r.bytes / 1e6)])));
  const kafkaMsPerMb = perMb((s) => s.kafkaCpuSeconds);
  const s3MsPerMb = perMb((s) => s.s3CpuSeconds);
  const shown = (v: number | undefined) => (v === undefined ? 'n/a' : v.toFixed(0));
  return { kafkaMsPerMb, s3MsPerMb, note: `servers: Kafka ${shown(kafkaMsPerMb)}, S3Proxy ${shown(s3MsPerMb)} ms/MB` };
}
