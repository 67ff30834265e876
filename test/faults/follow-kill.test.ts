/**
 * A warm standby's follower killed with -9 again and again (docs/reliability.md): a primary
 * topic is written all along and backed up by a BackupSink in one worker process, while a
 * follow-mode RestoreSource (transaction.boundary=poll) in another process keeps a standby
 * topic current. The follower is killed at seeded random moments (after some records in the
 * run, during its start, at failpoints right before and after a commit) and restarted; then
 * stopped (SIGSTOP) at a commit with its transaction open, held past the transaction timeout
 * until the broker aborted it, and resumed (SIGCONT). Each time production stops and the
 * standby caught up, a read_committed reader must find every partition of the standby
 * holding exactly the primary's records, in order. COLDSTORE_FOLLOW_KILL_SEED replays a
 * run's choices.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaProducer } from '../../runtime/kafka/producer.js';
import { readPartitions } from '../helpers/broker-records.js';
import { bootstrap, createTopic } from '../helpers/kafka.js';
import { s3Settings } from '../helpers/s3.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { freePort, WorkerProcess } from '../helpers/worker-process.js';
import { SteadyProduction } from './cluster-kit.js';
import { committedOffsets, logTail, sleep, summary, tasksOf, until } from './fault-kit.js';
import { killRestoreRuns, readRestored } from './restore-kill-kit.js';
import { SeededRandom } from './zombie-kit.js';

const PARTITIONS = 3;
const TASKS = 2;
const KILLS = 8;
/** Records per partition per 100 ms tick: about 150 records/s in all. */
const PER_TICK = 5;
/** Short, so a transaction left open by a paused follower is aborted by the broker within the test's time. */
const TRANSACTION_TIMEOUT_MS = 5_000;
/** How often the broker looks for timed-out transactions (transaction.abort.timed.out.transaction.cleanup.interval.ms, default). */
const BROKER_ABORT_CHECK_MS = 10_000;

interface FollowedFigures {
  restored_offset: number | null;
  backed_up_end: number | null;
  lag_offsets: number;
}

/**
 * Starts the follower armed to stop itself (SIGSTOP) at its `nth` commit, its transaction
 * open with records in it, holds it stopped `holdMs`, then resumes it (SIGCONT). Returns
 * what its log says happened in the 3 s after.
 */
async function pauseMidTransaction(worker: WorkerProcess, file: string, nth: number, holdMs: number): Promise<string> {
  const logBefore = statSync(worker.logPath).size;
  // A stopped process never answers /health: the start is waited for after SIGCONT.
  const starting = worker.start([file], { COLDSTORE_FAILPOINTS: `source.before-commit@${nth}:stop` });
  starting.catch(() => undefined);
  await until('the follower stopped at source.before-commit', async () => (worker.isStopped() ? true : undefined), 30_000, 50).catch((err: Error) => {
    throw new Error(`${err.message}\n${logTail(worker)}`);
  });
  await sleep(holdMs);
  worker.resume();
  await starting;
  await sleep(3_000);
  const after = readFileSync(worker.logPath).subarray(logBefore).toString('utf8');
  const outcomes: [string, RegExp][] = [
    ['task-fenced', /task fenced/],
    ['transaction-aborted', /transaction aborted/],
    ['task-failed', /task failed/],
    ['restarted-from-committed-offsets', /restarting the task from its persisted offsets/],
  ];
  const seen = outcomes.filter(([, pattern]) => pattern.test(after)).map(([label]) => label);
  return seen.length > 0 ? seen.join('+') : 'committed';
}

describe('RestoreSource restore.mode=follow: kill -9 and pause of the follower while the primary is written, exactly once on the standby', () => {
  const rng = SeededRandom.fromEnv('COLDSTORE_FOLLOW_KILL_SEED');
  const id = uniqueName('ffk')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
  const primary = `prim-${id}`;
  const standby = `stby-${id}`;
  const storage = { ...s3Settings(), 'backup.label': `ffk-${id}` };
  let backup: { worker: WorkerProcess; file: string };
  let follow: { worker: WorkerProcess; file: string };
  let producer: KafkaProducer | undefined;
  let production: SteadyProduction | undefined;

  /** A worker process of its own (standalone) running the connector `name`, with the file that configures it. */
  async function workerFor(name: string, config: Record<string, string>): Promise<{ worker: WorkerProcess; file: string }> {
    const worker = new WorkerProcess(tmpDir(`faults-follow-kill-${name}`), await freePort(), {
      'bootstrap.servers': bootstrap(),
      'offset.flush.interval.ms': 300,
    });
    const file = join(worker.dir, `${name}.json`);
    writeFileSync(file, JSON.stringify({ name, config }));
    return { worker, file };
  }

  beforeAll(async () => {
    console.info(`[faults] follow-kill seed=${rng.seed} (replay: COLDSTORE_FOLLOW_KILL_SEED=${rng.seed})`);
    await createTopic(primary, PARTITIONS);
    backup = await workerFor('backup', {
      'connector.class': 'BackupSink',
      ...storage,
      topics: primary,
      'tasks.max': '2',
      'bundle.max.records': '150',
      'bundle.max.age.ms': '500',
      'gzip.level': '1',
    });
    follow = await workerFor('follow', {
      'connector.class': 'RestoreSource',
      ...storage,
      'restore.mode': 'follow',
      topics: primary,
      'topic.rename': `${primary}:${standby}`,
      'transaction.boundary': 'poll',
      'poll.max.records': '70',
      'tasks.max': String(TASKS),
      'fetch.max.in.flight': '2',
      'follow.interval.ms': '200',
      'follow.discovery.interval.ms': '1000',
      'producer.override.transaction.timeout.ms': String(TRANSACTION_TIMEOUT_MS),
    });
    producer = new KafkaProducer({ bootstrapServers: bootstrap(), extra: {} }, 'faults-follow-kill-producer');
    await producer.connect();
    production = new SteadyProduction(producer, primary, PARTITIONS, PER_TICK, id);
    production.start();
    await backup.worker.start([backup.file]);
    // The follower starts with something backed up in every partition, so its first run has work.
    await until(
      'a first backed-up range of every partition',
      async () => ((await committedOffsets(backup.worker, 'backup')).size === PARTITIONS ? true : undefined),
      60_000,
    );
  }, 120_000);

  afterAll(async () => {
    await production?.stop();
    follow?.worker.resume();
    await follow?.worker.kill('SIGKILL');
    await backup?.worker.kill('SIGKILL');
    await producer?.disconnect();
  });

  /** Every followed partition's figures over the follower's tasks; fails at once if a task is not RUNNING (a standalone worker runs it nowhere else). */
  async function followedPartitions(): Promise<Record<string, FollowedFigures>> {
    const worker = follow.worker;
    const tasks = await tasksOf(worker, 'follow');
    const stuck = tasks.find((t) => t.state !== 'RUNNING');
    if (stuck) {
      const fenced = readFileSync(worker.logPath, 'utf8')
        .split('\n')
        .filter((line) => line.includes('task fenced') && line.includes(`"task":${stuck.id},`))
        .pop();
      throw new Error(
        `follow task ${stuck.id} is ${stuck.state} and no other worker runs it (standalone): the standby stopped following. ${stuck.trace ?? fenced ?? logTail(worker)}`,
      );
    }
    return Object.assign({}, ...tasks.map((t) => t.progress?.['partitions'] ?? {})) as Record<string, FollowedFigures>;
  }

  /**
   * Stops production, waits until the backup holds every record and the standby caught up
   * with it (lag_offsets 0 at the last produced offset), and reads both sides back.
   */
  async function stopAndCompare() {
    const produced = await production!.stop();
    const total = produced.reduce((a, b) => a + b, 0);
    await until(
      'the backup holding every produced record',
      async () => {
        const committed = await committedOffsets(backup.worker, 'backup');
        return produced.every((n, p) => committed.get(`${primary}/${p}`) === n) ? true : undefined;
      },
      60_000,
    );
    let figures: Record<string, FollowedFigures> = {};
    await until(
      'the standby caught up with the backup',
      async () => {
        figures = await followedPartitions();
        const caughtUp = (n: number, p: number) => figures[`${primary}/${p}`]?.restored_offset === n - 1 && figures[`${primary}/${p}`]?.lag_offsets === 0;
        return produced.every(caughtUp) ? true : undefined;
      },
      60_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; produced per partition ${JSON.stringify(produced)}; last figures ${JSON.stringify(figures)}`);
    });
    const primaryRecords = await readPartitions(produced.map((count, partition) => ({ topic: primary, partition, count })));
    expect(primaryRecords).toHaveLength(total);
    const expectedValues = (p: number) => primaryRecords.filter((r) => r.partition === p).map((r) => r.value!.toString());
    const { values, lost, duplicated } = await readRestored(standby, PARTITIONS, expectedValues);
    // What the faults left aborted on the standby: read_uncommitted readers (kcat here) still see it.
    const uncommitted = execFileSync(
      'kcat',
      ['-C', '-b', bootstrap(), '-t', standby, '-o', 'beginning', '-e', '-q', '-X', 'isolation.level=read_uncommitted', '-f', '%s\\n'],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    )
      .split('\n')
      .filter(Boolean).length;
    const figuresOut = {
      records: total,
      'standby records': values.reduce((n, vs) => n + vs.length, 0),
      lost,
      duplicated,
      'aborted records hidden from read_committed': uncommitted - total,
    };
    return { values, expectedValues, lost, duplicated, figures: figuresOut };
  }

  function expectExactlyOnce(result: Awaited<ReturnType<typeof stopAndCompare>>): void {
    for (let p = 0; p < PARTITIONS; p++) expect(result.values[p], `standby partition ${p}`).toEqual(result.expectedValues(p));
    expect(result.lost).toBe(0);
    expect(result.duplicated).toBe(0);
  }

  it(`${KILLS} kills -9 of the follower at random moments: every primary record once, in order, on the standby`, async () => {
    const started = Date.now();
    const { kinds, sequence } = await killRestoreRuns(follow.worker, follow.file, {
      name: 'follow',
      kills: KILLS,
      maxStep: 600,
      transactional: true,
      progressWeight: 3,
      random: rng,
    });
    expect(sequence).toHaveLength(KILLS);
    // The last run is not killed; it catches up while records still come.
    await follow.worker.start([follow.file]);
    await sleep(rng.int(1_000, 4_000));
    const result = await stopAndCompare();
    summary('follow-kill/kills', {
      seed: rng.seed,
      kills: KILLS,
      'kills(progress/startup/before-commit/after-commit)': `${kinds.progress}/${kinds.startup}/${kinds.beforeCommit}/${kinds.afterCommit}`,
      ...result.figures,
      seconds: Math.round((Date.now() - started) / 1000),
    });
    expectExactlyOnce(result);
  });

  it('a pause (SIGSTOP) mid-transaction past transaction.timeout.ms: the follower carries on, every primary record once, in order', async () => {
    const started = Date.now();
    production!.start();
    await follow.worker.terminate();
    const holdMs = TRANSACTION_TIMEOUT_MS + BROKER_ABORT_CHECK_MS + rng.int(1_000, 3_000);
    const commitNth = rng.int(2, 10);
    const afterPause = await pauseMidTransaction(follow.worker, follow.file, commitNth, holdMs);
    await sleep(rng.int(1_000, 4_000));
    const fields = { seed: rng.seed, pause: `before-commit@${commitNth}:stop+${holdMs}ms`, 'after the pause': afterPause };
    // The broker aborted the transaction during the pause: the resumed task learnt it was fenced and started over.
    expect(afterPause).toContain('restarted-from-committed-offsets');
    const result = await stopAndCompare().catch((err: Error) => {
      summary('follow-kill/pause', { ...fields, 'caught up': 'no', seconds: Math.round((Date.now() - started) / 1000) });
      throw err;
    });
    summary('follow-kill/pause', { ...fields, ...result.figures, seconds: Math.round((Date.now() - started) / 1000) });
    expectExactlyOnce(result);
  });
});
