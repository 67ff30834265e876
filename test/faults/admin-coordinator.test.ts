/**
 * A consumer group's offsets and members asked of a cluster whose group coordinator is
 * not ready (a fresh cluster, as after a coordinator moves). Two crashes, both fixed by
 * scripts/patch-kafka-client.sh:
 * - offsets: the bundled librdkafka answered NOT_COORDINATOR by re-querying the
 *   coordinator through a consumer-group handle an admin client does not have
 *   (librdkafka#5040; found by standby-two-clusters: BackupSink snapshots group offsets;
 *   before the fix 1 round in 3 crashed);
 * - members: a DescribeConsumerGroups answer carrying an error has no partition
 *   assignor, and the binding converted that NULL to a string; and a worker whose start
 *   check met NOT_COORDINATOR exited instead of waiting. Found by the nemesis: three
 *   cluster-mode workers started on a fresh broker crashed or exited (3 runs in 3); every
 *   one must start now.
 * - offsets asked while the broker was down longer than the request timeout: the bundled
 *   librdkafka released a timed-out request's handle twice once the coordinator was back
 *   and aborted (eonce->refcnt > 0; found by the nemesis, a core dump of a worker).
 * The offsets rounds ask from a child process, 20 calls at a time, from while a fresh broker
 * boots; a crash is the child's exit signal.
 */
import { execFile } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { clusterWorkerConfig } from '../helpers/cluster-config.js';
import { tmpDir } from '../helpers/tmp.js';
import { freePort, WorkerProcess } from '../helpers/worker-process.js';
import { logMessageCounts } from './zombie-kit.js';
import { PrivateKafka } from './private-kafka.js';

const ROUNDS = 3;
const NOT_READY = 'cluster state not ready yet; retrying';
const ADMIN = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), 'dist', 'runtime', 'kafka', 'admin.js');

/** Asks the offsets of 200 groups, 20 calls at a time, for argv[3] ms; prints answers and errors by kind. */
const CHILD = `
const { KafkaAdmin } = await import(process.argv[1]);
const admin = new KafkaAdmin({ bootstrapServers: process.argv[2], extra: {} }, 'coordinator-probe');
const seen = { answers: 0, errors: {} };
const until = Date.now() + Number(process.argv[3]);
let i = 0;
await Promise.all(Array.from({ length: 20 }, async () => {
  while (Date.now() < until) {
    try {
      const group = 'probe-' + (i++ % 200);
      await admin.groupOffsets(group);
      seen.answers++;
    } catch (err) {
      seen.errors[err.constructor.name] = (seen.errors[err.constructor.name] ?? 0) + 1;
    }
  }
}));
admin.disconnect();
console.log(JSON.stringify(seen));
`;

interface Seen {
  answers: number;
  errors: Record<string, number>;
}

/** Runs the child; fails the test if it crashed or exited non-zero. */
async function ask(broker: PrivateKafka, ms: number, round: string): Promise<Seen> {
  const outcome = await new Promise<{ signal: string | null; code: number | null; stdout: string; stderr: string }>((done) => {
    const child = execFile(
      process.execPath,
      ['--input-type=module', '-e', CHILD, ADMIN, broker.bootstrap, String(ms)],
      { timeout: 90_000 },
      (_err, stdout, stderr) => done({ signal: child.signalCode, code: child.exitCode, stdout, stderr }),
    );
  });
  expect(outcome.signal, `${round}: ${outcome.stderr}`).toBeNull();
  expect(outcome.code, outcome.stderr).toBe(0);
  console.info(`[faults] admin-coordinator ${round}: ${outcome.stdout.trim()}`);
  return JSON.parse(outcome.stdout.trim().split('\n').pop()!) as Seen;
}

describe('group offsets and members asked while the group coordinator is not ready', () => {
  it('offsets asked while a fresh broker boots: answered or failed retriably, never a crash', async () => {
    for (let round = 1; round <= ROUNDS; round++) {
      const broker = await PrivateKafka.create(tmpDir('faults-admin-coordinator'));
      try {
        const booting = broker.start();
        const seen = await ask(broker, 15_000, `offsets round ${round}`);
        await booting;
        expect(seen.answers).toBeGreaterThan(0);
        expect(Object.keys(seen.errors).filter((kind) => kind !== 'RetriableError')).toEqual([]);
      } finally {
        await broker.stop();
      }
    }
  }, 300_000);

  it('offsets asked while the broker is down longer than the request timeout: no abort once it is back', async () => {
    const broker = await PrivateKafka.create(tmpDir('faults-admin-coordinator'));
    try {
      await broker.start();
      const asking = ask(broker, 45_000, 'broker down 20 s');
      await new Promise((r) => setTimeout(r, 4_000));
      await broker.stop('SIGKILL');
      // Longer than the 15 s request timeout: requests time out while their coordinator is unknown.
      await new Promise((r) => setTimeout(r, 20_000));
      await broker.start();
      const seen = await asking;
      expect(seen.answers).toBeGreaterThan(0);
      expect(seen.errors['RetriableError'] ?? 0, 'requests timed out while the broker was down').toBeGreaterThan(0);
      expect(Object.keys(seen.errors).filter((kind) => kind !== 'RetriableError')).toEqual([]);
    } finally {
      await broker.stop();
    }
  }, 180_000);

  it('three cluster-mode workers started at once on a fresh broker: every one starts (no crash, no exit while the coordinator is not ready)', async () => {
    const broker = await PrivateKafka.create(tmpDir('faults-admin-coordinator'));
    const dir = tmpDir('faults-admin-coordinator-workers');
    const workers: WorkerProcess[] = [];
    try {
      await broker.start();
      for (const name of ['w1', 'w2', 'w3']) {
        mkdirSync(join(dir, name));
        workers.push(
          new WorkerProcess(join(dir, name), await freePort(), clusterWorkerConfig('fresh-cluster', name, { 'bootstrap.servers': broker.bootstrap })),
        );
      }
      const started = await Promise.allSettled(workers.map((w) => w.start()));
      const retried = workers.map((w) => logMessageCounts(w.logPath, [NOT_READY])[NOT_READY]!);
      console.info(`[faults] admin-coordinator fresh cluster: workers that waited for the coordinator: ${retried.filter((n) => n > 0).length}/3`);
      expect(started.map((s) => (s.status === 'rejected' ? String(s.reason).slice(0, 400) : 'started'))).toEqual(['started', 'started', 'started']);
      for (const w of workers) expect(w.pid, 'still running').toBeDefined();
    } finally {
      for (const w of workers) await w.kill('SIGKILL');
      await broker.stop();
    }
  }, 180_000);
});
