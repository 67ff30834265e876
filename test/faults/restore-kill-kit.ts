/**
 * The kill-and-resume loop of the restore crash tests (restore-kill, encrypted-kill): the
 * worker running a RestoreSource is killed at random moments — after some progress, during
 * its start, at failpoints around a commit — then run to the end, and the target read back.
 */
import { expect } from 'vitest';
import { readPartitions } from '../helpers/broker-records.js';
import { waitFor } from '../helpers/wait.js';
import type { WorkerProcess } from '../helpers/worker-process.js';
import { logTail, pick, randomInt, settledTasks, sleep, startWorker, tasksOf, waitFinished } from './fault-kit.js';

export interface RestoreKills {
  kinds: { progress: number; startup: number; beforeCommit: number; afterCommit: number };
  sequence: string[];
  /** Records restored when the last (unkilled) run started: proof every kill landed mid-restore. */
  recordsAtLastStart: number;
}

/** Waits until the tasks of `name` restored `step` more records in this run (each counted from where it resumed), or 10 s. */
async function untilProgress(worker: WorkerProcess, name: string, step: number, description: () => string): Promise<void> {
  const baseline = new Map<number, number>();
  const deadline = Date.now() + 10_000;
  for (;;) {
    const tasks = await tasksOf(worker, name);
    if (tasks.length > 0 && tasks.every((t) => t.state === 'FINISHED')) throw new Error(`${name} finished after ${description()}: make the job larger`);
    const failed = tasks.find((t) => t.state === 'FAILED');
    if (failed) throw new Error(`${name} task ${failed.id} FAILED: ${failed.trace}`);
    let progress = 0;
    for (const t of tasks) {
      // A task whose start is slow (fencing) shows no partitions yet: it is not waited for.
      if (Object.keys((t.progress?.['partitions'] as object | undefined) ?? {}).length === 0) continue;
      const records = Number(t.progress?.records) || 0;
      if (!baseline.has(t.id)) baseline.set(t.id, records);
      progress += records - baseline.get(t.id)!;
    }
    if (progress >= step || Date.now() > deadline) return;
    await sleep(50);
  }
}

/** The random choices of a kill loop: Math.random unless a seeded source (SeededRandom) is given, to replay a run. */
export interface KillChoices {
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
}

const unseeded: KillChoices = { int: randomInt, pick };

/**
 * Starts the restore of connector file `file` (connector `name`) and kills its worker
 * `kills` times, each run killed the way picked at random: after 1–`maxStep` records
 * restored in the run (`progressWeight` times as likely as each other way), 0–300 ms
 * into its start, or at a failpoint around a commit (`source.after-commit` exists only
 * in transactional mode: after the transaction, before the checkpoint mirror). Prints
 * the sequence; leaves the worker stopped.
 */
export async function killRestoreRuns(
  worker: WorkerProcess,
  file: string,
  options: { name: string; kills: number; maxStep: number; transactional: boolean; progressWeight: number; random?: KillChoices },
): Promise<Pick<RestoreKills, 'kinds' | 'sequence'>> {
  const { name, kills, transactional } = options;
  const random = options.random ?? unseeded;
  const kinds = { progress: 0, startup: 0, beforeCommit: 0, afterCommit: 0 };
  const sequence: string[] = [];
  const hows = [...Array<'progress'>(options.progressWeight).fill('progress'), 'startup', 'failpoint'] as const;
  for (let run = 0; run < kills; run++) {
    const how = random.pick(hows);
    if (how === 'failpoint') {
      const point = random.pick(transactional ? (['source.before-commit', 'source.after-commit'] as const) : (['source.before-commit'] as const));
      const nth = random.int(1, 8);
      const outcome = await startWorker(worker, [file], { COLDSTORE_FAILPOINTS: `${point}@${nth}` });
      const died = outcome === 'died' || (await Promise.race([worker.exited().then(() => true), sleep(10_000).then(() => false)]));
      if (!died) await worker.kill('SIGKILL');
      kinds[point === 'source.before-commit' ? 'beforeCommit' : 'afterCommit']++;
      sequence.push(died ? `${point}@${nth}` : `${point}@${nth}-not-reached:SIGKILL`);
      continue;
    }
    expect(await startWorker(worker, [file]), logTail(worker)).toBe('started');
    if (how === 'startup') {
      const delay = random.int(0, 300);
      await sleep(delay);
      sequence.push(`startup+${delay}ms`);
    } else {
      const step = random.int(1, options.maxStep);
      await untilProgress(worker, name, step, () => `${run} kills (${sequence.join(' ')})`);
      sequence.push(`progress+${step}`);
    }
    await worker.kill('SIGKILL');
    kinds[how]++;
  }
  console.info(`[faults] ${name} kill sequence: ${sequence.join(' ')}`);
  return { kinds, sequence };
}

/**
 * Runs the restore of connector file `file` (connector `name`), killing its worker `kills`
 * times (killRestoreRuns), then lets a last run finish all `total` records.
 */
export async function killRestoreThenFinish(
  worker: WorkerProcess,
  file: string,
  options: { name: string; kills: number; total: number; transactional: boolean; progressWeight: number },
): Promise<RestoreKills> {
  const { name, kills, total } = options;
  // A small, random number of records restored in each run, so the job outlasts the kills.
  const { kinds, sequence } = await killRestoreRuns(worker, file, { ...options, maxStep: Math.floor(total / (3 * kills)) });

  // The last run is not killed. The job had not finished when it started, so every kill interrupted it.
  expect(await startWorker(worker, [file]), logTail(worker)).toBe('started');
  const atLastStart = await settledTasks(worker, name);
  expect(
    atLastStart.every((t) => t.state === 'FINISHED'),
    `${name} finished before the last kill: make the job larger`,
  ).toBe(false);
  const recordsAtLastStart = atLastStart.reduce((n, t) => n + (Number(t.progress?.records) || 0), 0);
  const finished = await waitFinished(worker, name, 240_000);
  expect(await worker.kill('SIGTERM')).toBe(0);
  expect(finished.reduce((n, t) => n + Number(t.progress?.records), 0)).toBe(total);
  return { kinds, sequence, recordsAtLastStart };
}

/** Each partition's values of the restored topic as a read_committed reader sees them, with what is missing and repeated. */
export async function readRestored(target: string, partitions: number, expectedValues: (p: number) => string[]) {
  const records = await readPartitions(Array.from({ length: partitions }, (_, partition) => ({ topic: target, partition })));
  const values = Array.from({ length: partitions }, (_, p) => records.filter((r) => r.partition === p).map((r) => r.value!.toString()));
  const lost = values.reduce((n, vs, p) => {
    const present = new Set(vs);
    return n + expectedValues(p).filter((v) => !present.has(v)).length;
  }, 0);
  const duplicated = values.reduce((n, vs) => n + vs.length - new Set(vs).size, 0);
  return { values, lost, duplicated };
}

/** Waits until an in-process BackupSink (the restore tests' fixture) committed every partition of `topic` to `perPartition`. */
export function untilBackupCommitted(
  herder: { committedOffsets(): { topic: string; offset: bigint }[] },
  topic: string,
  partitions: number,
  perPartition: number,
  what = 'backup complete',
): Promise<unknown> {
  return waitFor(
    what,
    () => {
      const positions = herder.committedOffsets().filter((o) => o.topic === topic);
      return positions.length === partitions && positions.every((o) => o.offset === BigInt(perPartition));
    },
    { timeoutMs: 120_000, intervalMs: 300 },
  );
}
