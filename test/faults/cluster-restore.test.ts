/**
 * Cluster mode under faults, restoring (issue 14): transactional restores
 * (transaction.boundary=poll) of a 6-partition backup, one after the other, each with 6 tasks
 * spread over the cluster, while a seeded nemesis (COLDSTORE_CLUSTER_SEED,
 * COLDSTORE_CLUSTER_FAULTS) kills (-9), pauses past the session timeout, restarts, adds and
 * removes workers. A task of a dead or paused worker resumes on another one from the shared
 * offsets; the zombie's producer is fenced. Afterwards a read_committed reader finds every
 * restored topic holding each backed-up record exactly once, in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPartitions } from '../helpers/broker-records.js';
import { createTopic, produceLines } from '../helpers/kafka.js';
import { createTestApp } from '../helpers/test-app.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { Cluster, fencedCount, nemesis } from './cluster-kit.js';
import { sleep, summary } from './fault-kit.js';
import { untilBackupCommitted } from './restore-kill-kit.js';
import { SeededRandom } from './zombie-kit.js';

const PARTITIONS = 6;
const PER_PARTITION = 3000;
const TASKS = 6;
const FAULTS = Number(process.env['COLDSTORE_CLUSTER_FAULTS'] ?? 30);

describe('cluster mode: transactional restores exactly once while workers are killed, paused, restarted, added and removed', () => {
  const root = tmpDir('faults-cluster-restore-objects');
  const source = uniqueName('fclr');
  const label = uniqueName('fclr').toLowerCase();
  const cluster = new Cluster(tmpDir('faults-cluster-restore'), uniqueName('fclrg').toLowerCase());
  afterAll(async () => {
    await cluster.killAll();
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
          'bundle.max.records': '300',
          'bundle.max.age.ms': '300',
        },
        true,
      );
      await untilBackupCommitted(app.herder, source, PARTITIONS, PER_PARTITION);
    } finally {
      await app.stop();
    }
  }, 180_000);

  it(`restores exactly once through ${FAULTS} random faults`, async () => {
    const rng = SeededRandom.fromEnv('COLDSTORE_CLUSTER_SEED');
    console.info(`[faults] cluster-restore seed=${rng.seed} (replay: COLDSTORE_CLUSTER_SEED=${rng.seed})`);
    for (const name of ['w1', 'w2', 'w3', 'w4']) await cluster.add(name);
    await Promise.all(cluster.members.slice(0, 3).map((m) => m.worker.start()));

    let faultsDone = false;
    const faults = nemesis(cluster, rng, FAULTS, (line) => console.info(`[faults] cluster-restore ${line}`)).finally(() => (faultsDone = true));
    const targets: string[] = [];
    while (!faultsDone || targets.length === 0) {
      const n = targets.length + 1;
      const target = `${source}-r${n}`;
      const created = await cluster.api('POST', '/connectors', {
        name: `restore-${n}`,
        config: {
          'connector.class': 'RestoreSource',
          topics: source,
          'topic.rename': `${source}:${target}`,
          'storage.type': 'local',
          'local.root': root,
          'backup.label': label,
          'tasks.max': String(TASKS),
          'poll.max.records': '100',
          'fetch.max.in.flight': '1',
          'transaction.boundary': 'poll',
        },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      await waitFor(
        `restore-${n} FINISHED on every task`,
        async () => {
          const status = await cluster.api('GET', `/connectors/restore-${n}/status`);
          const tasks = (status.body?.tasks ?? []) as { state: string }[];
          return tasks.length === TASKS && tasks.every((t) => t.state === 'FINISHED');
        },
        { timeoutMs: 600_000, intervalMs: 500 },
      );
      targets.push(target);
      console.info(`[faults] cluster-restore: restore-${n} finished`);
    }
    const counts = await faults;
    for (const m of cluster.stopped()) await m.worker.start();
    await sleep(2_000);

    const expected = Array.from({ length: PARTITIONS }, (_, p) => Array.from({ length: PER_PARTITION }, (_, i) => `v-${p}-${i}`));
    let duplicates = 0;
    let missing = 0;
    for (const target of targets) {
      const records = await readPartitions(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: target, partition })));
      for (let p = 0; p < PARTITIONS; p++) {
        const values = records.filter((r) => r.partition === p).map((r) => r.value?.toString('utf8') ?? '');
        duplicates += values.length - new Set(values).size;
        missing += expected[p]!.filter((v) => !values.includes(v)).length;
        expect(values, `${target} partition ${p}: every record once, in order`).toEqual(expected[p]);
      }
    }
    const fenced = cluster.members.map((m) => ({ name: m.name, zombies: m.zombies, fenced: fencedCount(m.worker) }));
    summary('cluster-restore', {
      seed: rng.seed,
      faults: FAULTS,
      ...counts,
      restores: targets.length,
      records: targets.length * PARTITIONS * PER_PARTITION,
      duplicates,
      missing,
      zombiesFenced: fenced.map((f) => `${f.name}:${f.fenced}/${f.zombies}`).join(','),
    });
    expect(duplicates).toBe(0);
    expect(missing).toBe(0);
    for (const f of fenced) expect(f.fenced, `${f.name}: every pause past the session timeout is logged as fenced`).toBeGreaterThanOrEqual(f.zombies);
  });
});
