/**
 * A restore killed (SIGKILL) at random moments and resumed (docs/reliability.md), once in
 * transactional mode (transaction.boundary=poll) and once in plain mode, each killed 10
 * times in the middle of its work: after a random amount of progress in the run, during
 * its start (listing, fencing the previous transactional producer, reading offsets back),
 * and at failpoints right before and right after a commit. Afterwards the target holds
 * every record; in transactional mode each exactly once, in order; in plain mode repeats
 * only within the documented bound (docs/delivery-guarantees.md: at most
 * 8 × poll.max.records per task and crash, as runs of records in order).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrap, createTopic, produceLines } from '../helpers/kafka.js';
import { createTestApp } from '../helpers/test-app.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { freePort, WorkerProcess } from '../helpers/worker-process.js';
import { summary } from './fault-kit.js';
import { killRestoreThenFinish, readRestored, untilBackupCommitted } from './restore-kill-kit.js';

const PARTITIONS = 3;
const PER_PARTITION = 6000;
const TOTAL = PARTITIONS * PER_PARTITION;
const TASKS = 2;
const KILLS = 10;

const expectedValues = (p: number) => Array.from({ length: PER_PARTITION }, (_, i) => `v-${p}-${i}`);

describe('RestoreSource: kill -9 at random moments and resume', () => {
  const root = tmpDir('faults-restore-kill-objects');
  const source = uniqueName('frkill');
  const label = uniqueName('frkill').toLowerCase();
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
    try {
      await app.herder.putConfig(
        'backup',
        {
          'connector.class': 'BackupSink',
          topics: source,
          'storage.type': 'local',
          'local.root': root,
          'backup.label': label,
          'bundle.max.records': '200',
          'bundle.max.age.ms': '300',
          'gzip.level': '1',
        },
        true,
      );
      await untilBackupCommitted(app.herder, source, PARTITIONS, PER_PARTITION);
    } finally {
      await app.stop();
    }
  }, 180_000);

  /**
   * Runs the restore `name` into `target`, killing the worker KILLS times at random moments,
   * then lets it finish. Proves every kill landed mid-restore: it had not finished when the
   * last run started. Returns each target partition's values as a read_committed reader sees them.
   */
  async function killAndResume(name: string, target: string, pollMaxRecords: number, extra: Record<string, string>) {
    const dir = tmpDir(`faults-${name}`);
    const worker = new WorkerProcess(dir, await freePort(), { 'bootstrap.servers': bootstrap(), 'offset.flush.interval.ms': 200 });
    workers.push(worker);
    const file = join(dir, `${name}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        name,
        config: {
          'connector.class': 'RestoreSource',
          topics: source,
          'topic.rename': `${source}:${target}`,
          'storage.type': 'local',
          'local.root': root,
          'backup.label': label,
          'tasks.max': String(TASKS),
          'poll.max.records': String(pollMaxRecords),
          'fetch.max.in.flight': '2',
          ...extra,
        },
      }),
    );
    const transactional = extra['transaction.boundary'] === 'poll';
    const { kinds, recordsAtLastStart } = await killRestoreThenFinish(worker, file, { name, kills: KILLS, total: TOTAL, transactional, progressWeight: 3 });
    const { values, lost, duplicated } = await readRestored(target, PARTITIONS, expectedValues);
    return {
      values,
      lost,
      duplicated,
      fields: {
        runs: KILLS + 1,
        faults: KILLS,
        'kills(progress/startup/before-commit/after-commit)': `${kinds.progress}/${kinds.startup}/${kinds.beforeCommit}/${kinds.afterCommit}`,
        'restored before the last run': `${recordsAtLastStart}/${TOTAL}`,
        'records checked': TOTAL,
        lost,
        duplicated,
      },
    };
  }

  it(`transactional: every record exactly once, in order, after ${KILLS} kills mid-restore`, async () => {
    const started = Date.now();
    const target = `${source}-tx`;
    const result = await killAndResume('restore-tx', target, 50, { 'transaction.boundary': 'poll' });
    // The kills left aborted transactions behind: read_uncommitted readers (kcat, another client) see them.
    const uncommitted = execFileSync(
      'kcat',
      ['-C', '-b', bootstrap(), '-t', target, '-o', 'beginning', '-e', '-q', '-X', 'isolation.level=read_uncommitted', '-f', '%s\\n'],
      {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      },
    )
      .split('\n')
      .filter(Boolean).length;
    summary('restore-kill/transactional', {
      ...result.fields,
      'aborted records hidden from read_committed': uncommitted - TOTAL,
      seconds: Math.round((Date.now() - started) / 1000),
    });
    for (let p = 0; p < PARTITIONS; p++) expect(result.values[p], `partition ${p}`).toEqual(expectedValues(p));
    expect(result.duplicated).toBe(0);
    expect(result.lost).toBe(0);
  });

  it(`plain: every record, repeats only as runs in order within 8 × poll.max.records per task and kill, after ${KILLS} kills mid-restore`, async () => {
    const started = Date.now();
    // Small polls and a longer linger keep all 8 batches in flight most of the time (the
    // worst case for repeats) and the restore slow enough to be killed 10 times mid-way.
    const pollMaxRecords = 10;
    const result = await killAndResume('restore-plain', `${source}-plain`, pollMaxRecords, { 'producer.override.linger.ms': '100' });
    const bound = KILLS * TASKS * 8 * pollMaxRecords;
    let repeatedRuns = 0;
    const orderProblems: string[] = [];
    result.values.forEach((values, p) => {
      const indexes = values.map((v) => Number(v.slice(v.lastIndexOf('-') + 1)));
      let highest = -1;
      for (const [i, index] of indexes.entries()) {
        // Never past the next record not seen yet (nothing skipped); a step back starts a repeated run.
        if (index > highest + 1) orderProblems.push(`partition ${p}: record ${index} after ${highest} (records skipped)`);
        if (i > 0 && index !== indexes[i - 1]! + 1) {
          if (index > indexes[i - 1]!) orderProblems.push(`partition ${p}: record ${index} after ${indexes[i - 1]} (a jump forward)`);
          repeatedRuns++;
        }
        highest = Math.max(highest, index);
      }
    });
    summary('restore-kill/plain', { ...result.fields, bound, 'repeated runs': repeatedRuns, seconds: Math.round((Date.now() - started) / 1000) });
    expect(orderProblems).toEqual([]);
    expect(result.lost).toBe(0);
    for (let p = 0; p < PARTITIONS; p++) expect([...new Set(result.values[p])], `partition ${p}`).toEqual(expectedValues(p));
    expect(result.duplicated).toBeLessThanOrEqual(bound);
  });
});
