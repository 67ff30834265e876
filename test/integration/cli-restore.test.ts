/**
 * `coldstore restore` as an operator runs it: the built CLI as a child process, a real
 * local Kafka, a backup written by the real BackupSink into the local-filesystem store.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPartitions } from '../helpers/broker-records.js';
import { bootstrap, createTopic, produceLines } from '../helpers/kafka.js';
import { createTestApp } from '../helpers/test-app.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { freePort } from '../helpers/worker-process.js';

const CLI = resolve(import.meta.dirname, '../../dist/app/cli/main.cjs');
const PARTITIONS = 4;
/** About 20k records for the plain run; a larger topic keeps the crash test's window wide. */
const SMALL = 5_000;
const LARGE = 12_000;
const BUNDLE_RECORDS = 500;

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startCli(args: string[]): Run {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, signal) => done({ code, signal })));
  return { child, stdout: () => stdout, stderr: () => stderr, ended };
}

const values = (topic: string, p: number, count: number) => Array.from({ length: count }, (_, i) => `v-${topic}-${p}-${i}`);

/** Each partition's values as a read_committed consumer sees them, in offset order. */
async function restoredValues(topic: string, perPartition?: number): Promise<Map<number, string[]>> {
  const records = await readPartitions(
    Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition, ...(perPartition ? { count: perPartition } : {}) })),
  );
  const out = new Map<number, string[]>();
  for (const r of records) out.set(r.partition, [...(out.get(r.partition) ?? []), r.value!.toString()]);
  return out;
}

describe('coldstore restore (the CLI, real Kafka, local store)', () => {
  const root = tmpDir('cli-restore-objects');
  const label = uniqueName('clir').toLowerCase();
  const small = uniqueName('cli-small');
  const large = uniqueName('cli-large');
  const running: Run[] = [];

  beforeAll(async () => {
    for (const [topic, count] of [
      [small, SMALL],
      [large, LARGE],
    ] as const) {
      await createTopic(topic, PARTITIONS);
      for (let p = 0; p < PARTITIONS; p++) {
        const vs = values(topic, p, count);
        produceLines(
          topic,
          p,
          vs.map((v, i) => `k-${p}-${i}:${v}`),
        );
      }
    }
    const { app } = await createTestApp({});
    await app.herder.putConfig(
      uniqueName('backup'),
      {
        'connector.class': 'BackupSink',
        topics: `${small},${large}`,
        'storage.type': 'local',
        'local.root': root,
        'backup.label': label,
        'bundle.max.records': String(BUNDLE_RECORDS),
        'bundle.max.age.ms': '300',
      },
      true,
    );
    await waitFor(
      'both topics backed up',
      () => {
        const positions = app.herder.committedOffsets();
        const at = (topic: string, count: number) => positions.filter((o) => o.topic === topic && o.offset === BigInt(count)).length === PARTITIONS;
        return at(small, SMALL) && at(large, LARGE);
      },
      { timeoutMs: 90_000, intervalMs: 300 },
    );
    await app.stop();
  }, 180_000);

  afterAll(() => {
    for (const run of running) run.child.kill('SIGKILL');
  });

  function jobFiles(name: string, worker: Record<string, unknown>, restore: Record<string, string>) {
    const dir = tmpDir(`cli-restore-${name}`);
    const workerFile = join(dir, 'worker.json');
    const restoreFile = join(dir, 'restore.json');
    writeFileSync(workerFile, JSON.stringify({ 'bootstrap.servers': bootstrap(), 'data.dir': join(dir, 'data'), 'offset.flush.interval.ms': 200, ...worker }));
    writeFileSync(
      restoreFile,
      JSON.stringify({ name, config: { 'connector.class': 'RestoreSource', 'storage.type': 'local', 'local.root': root, 'backup.label': label, ...restore } }),
    );
    return { workerFile, restoreFile };
  }

  function run(args: string[]): Run {
    const r = startCli(args);
    running.push(r);
    return r;
  }

  it('restores a 20k-record topic to the end (exit 0), exactly its records, with progress lines; run again, it says it had finished', async () => {
    const target = `${small}-restored`;
    const name = uniqueName('restore-small');
    const { workerFile, restoreFile } = jobFiles(name, {}, { topics: small, 'topic.rename': `${small}:${target}`, 'tasks.max': '2' });

    const first = run(['restore', '--worker-config', workerFile, restoreFile, '--json']);
    const ended = await first.ended;
    expect(ended, first.stderr()).toEqual({ code: 0, signal: null });
    const status = JSON.parse(first.stdout());
    expect(status.tasks).toHaveLength(2);
    expect(status.tasks.every((t: { state: string }) => t.state === 'FINISHED')).toBe(true);
    expect(status.tasks.reduce((n: number, t: { progress: { records: number } }) => n + t.progress.records, 0)).toBe(PARTITIONS * SMALL);

    // stderr is a pipe here: plain progress lines, the last one with the final counts.
    const lines = first
      .stderr()
      .split('\n')
      .filter((l) => l.startsWith(`restore ${name}: `));
    expect(lines.length, first.stderr()).toBeGreaterThanOrEqual(1);
    expect(lines.at(-1)).toMatch(new RegExp(`\\b${PARTITIONS * SMALL} records, \\d+ objects, ${PARTITIONS}/${PARTITIONS} partitions done`));
    // With the tasks' planned work known, the lines carry a percentage and an ETA.
    if (status.tasks.every((t: { progress: { planned?: unknown } }) => t.progress.planned !== undefined)) {
      expect(lines.at(-1)).toMatch(/^restore \S+: 100% \(\S+ (Ki)?B of \S+ (Ki)?B\), .* ETA 0s$/);
    }
    expect(first.stderr()).toContain(`${name} FINISHED: ${PARTITIONS * SMALL} records restored`);
    expect(first.stderr()).not.toMatch(/\x1b\[/);

    const source = await restoredValues(small, SMALL);
    const restored = await restoredValues(target, SMALL);
    for (let p = 0; p < PARTITIONS; p++) {
      expect(source.get(p), `source partition ${p}`).toEqual(values(small, p, SMALL));
      expect(restored.get(p), `restored partition ${p}`).toEqual(source.get(p));
    }

    const again = run(['restore', '--worker-config', workerFile, restoreFile]);
    const startedAgain = Date.now();
    expect(await again.ended, again.stderr()).toEqual({ code: 0, signal: null });
    expect(again.stdout()).toContain(`${name} had already finished with this config (${PARTITIONS * SMALL} records restored); nothing to do.`);
    expect(again.stderr()).not.toContain(`restore ${name}: `);
    expect(Date.now() - startedAgain).toBeLessThan(20_000);
    const afterRerun = await restoredValues(target);
    for (let p = 0; p < PARTITIONS; p++) expect(afterRerun.get(p)?.length, `partition ${p} after the rerun`).toBe(SMALL);
  }, 180_000);

  it('transactional: killed with SIGKILL, then stopped with SIGINT, then run again, every record is there exactly once and in order', async () => {
    const target = `${large}-tx`;
    const name = uniqueName('restore-tx');
    const total = PARTITIONS * LARGE;
    const port = await freePort();
    // rest.port makes the embedded worker listen, so the test can watch the job's status.
    const { workerFile, restoreFile } = jobFiles(
      name,
      { 'rest.port': port },
      { topics: large, 'topic.rename': `${large}:${target}`, 'transaction.boundary': 'poll', 'poll.max.records': '50', 'tasks.max': '2' },
    );
    const args = ['restore', '--worker-config', workerFile, restoreFile];
    const restoredSoFar = async (r: Run) => {
      if (r.child.exitCode !== null) throw new Error(`the CLI exited early with ${r.child.exitCode}: ${r.stderr()}`);
      const res = await fetch(`http://127.0.0.1:${port}/connectors/${name}/status`).catch(() => undefined);
      if (res?.status !== 200) return undefined;
      const body = (await res.json()) as { tasks: { progress?: { records?: number } }[] };
      return body.tasks.reduce((n, t) => n + (t.progress?.records ?? 0), 0);
    };

    const killed = run(args);
    const atKill = await waitFor(
      'the first run to restore some records',
      async () => {
        const records = await restoredSoFar(killed);
        return records !== undefined && records > 2_000 ? records : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 100 },
    );
    killed.child.kill('SIGKILL');
    expect(await killed.ended).toEqual({ code: null, signal: 'SIGKILL' });
    expect(atKill).toBeLessThan(total);

    const interrupted = run(args);
    const atInterrupt = await waitFor(
      'the second run to restore more',
      async () => {
        const records = await restoredSoFar(interrupted);
        return records !== undefined && records > atKill + 2_000 ? records : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 100 },
    );
    interrupted.child.kill('SIGINT');
    expect(await interrupted.ended, interrupted.stderr()).toEqual({ code: 130, signal: null });
    expect(atInterrupt).toBeLessThan(total);
    expect(interrupted.stderr()).toContain(`coldstore: ${name} stopped;`);
    expect(interrupted.stderr()).toContain(`To resume, run the same command again:\n  coldstore restore --worker-config ${workerFile} ${restoreFile}`);
    expect(interrupted.stderr()).toMatch(new RegExp(`^restore ${name}: `, 'm'));

    const last = run([...args, '--json']);
    expect(await last.ended, last.stderr()).toEqual({ code: 0, signal: null });
    const status = JSON.parse(last.stdout());
    const progress = status.tasks.map((t: { progress: { records: number; objects: number } }) => t.progress);
    // Records count the whole job across the three runs; objects only what the last run read.
    expect(progress.reduce((n: number, p: { records: number }) => n + p.records, 0)).toBe(total);
    const bundles = Array.from(
      { length: PARTITIONS },
      (_, p) => readdirSync(join(root, `coldstore-${label}-events`, large, String(p))).filter((f) => f.endsWith('.avro.gz')).length,
    ).reduce((a, b) => a + b, 0);
    expect(bundles).toBeGreaterThanOrEqual(total / BUNDLE_RECORDS);
    expect(progress.reduce((n: number, p: { objects: number }) => n + p.objects, 0)).toBeLessThan(bundles);

    const restored = await restoredValues(target, LARGE);
    for (let p = 0; p < PARTITIONS; p++) expect(restored.get(p), `partition ${p}`).toEqual(values(large, p, LARGE));
    console.info(
      `cli-restore: killed at ${atKill}, interrupted at ${atInterrupt} of ${total} records; the last run read ${progress.reduce((n: number, p: { objects: number }) => n + p.objects, 0)} of ${bundles} bundles`,
    );
  }, 300_000);
});
