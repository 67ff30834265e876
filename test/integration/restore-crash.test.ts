import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPartitions } from '../helpers/broker-records.js';
import { bootstrap, createTopic, produceLines } from '../helpers/kafka.js';
import { createTestApp } from '../helpers/test-app.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { freePort, WorkerProcess } from '../helpers/worker-process.js';

const PARTITIONS = 3;
const PER_PARTITION = 1500;

/** Each partition's restored values, in the order a read_committed consumer sees them. */
async function restoredValues(topic: string): Promise<Map<number, string[]>> {
  const records = await readPartitions(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition })));
  const out = new Map<number, string[]>();
  for (const r of records) out.set(r.partition, [...(out.get(r.partition) ?? []), r.value!.toString()]);
  return out;
}

const expectedValues = (p: number) => Array.from({ length: PER_PARTITION }, (_, i) => `v-${p}-${i}`);

describe('RestoreSource resumes after kill -9', () => {
  const root = tmpDir('restore-crash-objects');
  const source = uniqueName('rcrash');
  const label = uniqueName('rc').toLowerCase();
  const workers: WorkerProcess[] = [];
  afterAll(async () => {
    for (const w of workers) await w.kill('SIGKILL');
  });

  beforeAll(async () => {
    await createTopic(source, PARTITIONS);
    for (let p = 0; p < PARTITIONS; p++)
      produceLines(
        source,
        p,
        Array.from({ length: PER_PARTITION }, (_, i) => `k-${p}-${i}:v-${p}-${i}`),
      );
    const { app } = await createTestApp({});
    const backup = uniqueName('backup');
    await app.herder.putConfig(
      backup,
      {
        'connector.class': 'BackupSink',
        topics: source,
        'storage.type': 'local',
        'local.root': root,
        'backup.label': label,
        'bundle.max.records': '100',
        'bundle.max.age.ms': '200',
      },
      true,
    );
    await waitFor(
      'backup complete',
      () => {
        const positions = app.herder.committedOffsets().filter((o) => o.topic === source);
        return positions.length === PARTITIONS && positions.every((o) => o.offset === BigInt(PER_PARTITION));
      },
      { timeoutMs: 60_000, intervalMs: 300 },
    );
    await app.stop();
  }, 120_000);

  async function runUntilFinished(name: string, config: Record<string, string>, crashes: ((w: WorkerProcess, files: string[]) => Promise<void>)[]) {
    const dir = tmpDir(`restore-crash-${name}`);
    const worker = new WorkerProcess(dir, await freePort(), { 'bootstrap.servers': bootstrap(), 'offset.flush.interval.ms': 200 });
    workers.push(worker);
    const file = join(dir, 'restore.json');
    writeFileSync(
      file,
      JSON.stringify({
        name,
        config: { 'connector.class': 'RestoreSource', topics: source, 'storage.type': 'local', 'local.root': root, 'backup.label': label, ...config },
      }),
    );
    for (const crash of crashes) await crash(worker, [file]);
    await worker.start([file]);
    const status = await waitFor(
      `${name} finished`,
      async () => {
        const { body } = await worker.api('GET', `/connectors/${name}/status`);
        const failed = body?.tasks?.find((t: { state: string }) => t.state === 'FAILED');
        if (failed) throw new Error(`task failed: ${failed.trace}`);
        return body?.tasks?.length > 0 && body.tasks.every((t: { state: string }) => t.state === 'FINISHED') ? body : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 300 },
    );
    expect(await worker.kill('SIGTERM')).toBe(0);
    // The final counts are the whole job's, across the crashed runs.
    expect(status.tasks.reduce((n: number, t: { progress: { records: number } }) => n + t.progress.records, 0)).toBe(PARTITIONS * PER_PARTITION);
  }

  /** Dies by itself at a failpoint. */
  const atFailpoint = (spec: string) => async (w: WorkerProcess, files: string[]) => {
    await w.startOrDie(files, { COLDSTORE_FAILPOINTS: spec });
    expect(await w.exited()).toBe('SIGKILL');
  };
  /** Killed at a random moment once running. */
  const atRandom = async (w: WorkerProcess, files: string[]) => {
    await w.start(files);
    await new Promise((r) => setTimeout(r, 300 + Math.random() * 1200));
    await w.kill('SIGKILL');
  };

  it('in transactional mode: every record exactly once, in order, for read_committed consumers', async () => {
    const target = `${source}-tx`;
    await runUntilFinished(
      'restore-tx',
      { 'topic.rename': `${source}:${target}`, 'transaction.boundary': 'poll', 'poll.max.records': '70', 'tasks.max': '2' },
      [atFailpoint('source.before-commit@4'), atFailpoint('source.after-commit@6'), atRandom, atRandom],
    );
    const restored = await restoredValues(target);
    for (let p = 0; p < PARTITIONS; p++) expect(restored.get(p), `partition ${p}`).toEqual(expectedValues(p));
    // The crashes left aborted transactions behind: a read_uncommitted reader sees more (kcat, an independent client).
    const uncommitted = execFileSync(
      'kcat',
      ['-C', '-b', bootstrap(), '-t', target, '-o', 'beginning', '-e', '-q', '-X', 'isolation.level=read_uncommitted', '-f', '%s\\n'],
      {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      },
    )
      .split('\n')
      .filter(Boolean);
    expect(uncommitted.length).toBeGreaterThan(PARTITIONS * PER_PARTITION);
    console.info(`restore-crash (transactional): ${uncommitted.length - PARTITIONS * PER_PARTITION} aborted records hidden from read_committed, 0 duplicates`);
  }, 240_000);

  it('without transactions: nothing lost, and only what was in flight repeated', async () => {
    const target = `${source}-plain`;
    await runUntilFinished('restore-plain', { 'topic.rename': `${source}:${target}`, 'poll.max.records': '70' }, [
      atFailpoint('source.before-commit@5'),
      atRandom,
    ]);
    const restored = await restoredValues(target);
    for (let p = 0; p < PARTITIONS; p++) {
      const values = restored.get(p)!;
      // Every record, in order once the repeats are removed; a repeat is a run of records restored again after a crash.
      expect([...new Set(values)], `partition ${p}`).toEqual(expectedValues(p));
      // At most the in-flight batches (8 × 70 records) per crash are repeated.
      expect(values.length - PER_PARTITION).toBeLessThanOrEqual(2 * 8 * 70);
      console.info(`restore-crash (plain): partition ${p} repeated ${values.length - PER_PARTITION} records`);
    }
  }, 240_000);
});
