/**
 * Cluster mode under faults (issue 14): a BackupSink with 6 tasks on a cluster of up to four
 * workers while records are produced all along. First the promised handovers, timed: a
 * worker killed with -9 has its tasks RUNNING elsewhere within the session timeout + 10 s,
 * one stopped with SIGTERM within seconds. Then a seeded random nemesis
 * (COLDSTORE_CLUSTER_SEED replays its choices; COLDSTORE_CLUSTER_FAULTS, at least 30) of
 * kill -9, pauses past the session timeout (zombies), restarts, added and removed workers.
 * Afterwards an independent reader proves every produced offset exactly once in S3 with no
 * overlapping bundles, and each zombie's log shows it was fenced.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { KafkaProducer } from '../../runtime/kafka/producer.js';
import { readPartitions } from '../helpers/broker-records.js';
import { bootstrap, createTopic } from '../helpers/kafka.js';
import { s3Client, s3Settings } from '../helpers/s3.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { Cluster, fencedCount, nemesis, SESSION_TIMEOUT_MS, SteadyProduction } from './cluster-kit.js';
import { proveExactlyOnce, recordDifferences, sleep, summary } from './fault-kit.js';
import { fetchBundles, SeededRandom, untilCovered } from './zombie-kit.js';

const PARTITIONS = 6;
const TASKS = 6;
const FAULTS = Number(process.env['COLDSTORE_CLUSTER_FAULTS'] ?? 30);
/** Records per partition per 100 ms tick: ~240 records/s in all. */
const PER_TICK = 4;

describe('cluster mode: BackupSink exactly once while workers are killed, paused, restarted, added and removed', () => {
  const dir = tmpDir('faults-cluster-backup');
  const cluster = new Cluster(dir, uniqueName('fcluster').toLowerCase());
  let producer: KafkaProducer | undefined;
  let production: SteadyProduction | undefined;
  afterAll(async () => {
    void production?.stop();
    await cluster.killAll();
    await producer?.disconnect();
  });

  it(`hands tasks over on kill -9 and SIGTERM, then survives ${FAULTS} random faults: zero lost, zero duplicated, zombies fenced`, async () => {
    const rng = SeededRandom.fromEnv('COLDSTORE_CLUSTER_SEED');
    console.info(`[faults] cluster-backup seed=${rng.seed} (replay: COLDSTORE_CLUSTER_SEED=${rng.seed})`);
    const topic = uniqueName('fclb');
    const label = uniqueName('fclb').toLowerCase();
    const bucket = `coldstore-${label}-events`;
    await createTopic(topic, PARTITIONS);
    for (const name of ['w1', 'w2', 'w3', 'w4']) await cluster.add(name);
    await Promise.all(cluster.members.slice(0, 3).map((m) => m.worker.start()));
    const created = await cluster.api('POST', '/connectors', {
      name: 'backup',
      config: {
        'connector.class': 'BackupSink',
        topics: topic,
        'tasks.max': String(TASKS),
        'backup.label': label,
        'bundle.max.records': '200',
        'bundle.max.age.ms': '1000',
        'gzip.level': '1',
        'consumer.override.session.timeout.ms': String(SESSION_TIMEOUT_MS),
        'consumer.override.heartbeat.interval.ms': '1000',
        ...s3Settings(),
      },
    });
    expect(created.status).toBe(201);

    producer = new KafkaProducer({ bootstrapServers: bootstrap(), extra: {} }, 'faults-cluster-producer');
    await producer.connect();
    production = new SteadyProduction(producer, topic, PARTITIONS, PER_TICK, label);
    production.start();

    // The promised handovers, timed from the signal.
    const placed = await cluster.untilRunning('backup', TASKS, 60_000);
    const [w1, w2] = cluster.members as [(typeof cluster.members)[0], (typeof cluster.members)[0]];
    expect(new Set(placed.values()).size).toBe(3);
    let at = Date.now();
    await w1.worker.kill('SIGKILL');
    await cluster.untilRunning('backup', TASKS, SESSION_TIMEOUT_MS + 10_000 + 5_000);
    const afterKill = Date.now() - at;
    at = Date.now();
    await w2.worker.terminate();
    await cluster.untilRunning('backup', TASKS, 60_000);
    const afterTerm = Date.now() - at;
    console.info(`[faults] cluster-backup: tasks RUNNING elsewhere ${afterKill} ms after kill -9, ${afterTerm} ms after SIGTERM`);
    expect(afterKill).toBeLessThan(SESSION_TIMEOUT_MS + 10_000);
    // Without the group leave on SIGTERM the handover would wait for the session timeout.
    expect(afterTerm).toBeLessThan(SESSION_TIMEOUT_MS);
    await Promise.all([w1.worker.start(), w2.worker.start()]);

    // The nemesis.
    const counts = await nemesis(cluster, rng, FAULTS, (line) => console.info(`[faults] cluster-backup ${line}`));
    for (const m of cluster.stopped()) await m.worker.start();
    await cluster.untilRunning('backup', TASKS, 60_000);
    await sleep(2_000);
    const produced = await production.stop();

    const uncovered = await untilCovered(s3Client(), bucket, topic, produced, 20_000, 120_000);
    await sleep(3_000); // a late zombie upload would land now
    const objects = await fetchBundles(s3Client(), bucket);
    const source = await readPartitions(produced.map((count, partition) => ({ topic, partition, count })));
    const report = proveExactlyOnce(topic, PARTITIONS, objects, source, recordDifferences);
    const fenced = cluster.members.map((m) => ({ name: m.name, zombies: m.zombies, fenced: fencedCount(m.worker) }));
    summary('cluster-backup', {
      seed: rng.seed,
      faults: FAULTS,
      ...counts,
      records: source.length,
      bundles: report.bundles,
      lost: report.lost,
      duplicated: report.duplicated,
      zombiesFenced: fenced.map((f) => `${f.name}:${f.fenced}/${f.zombies}`).join(','),
    });
    expect(uncovered, 'every produced offset reached S3').toEqual([]);
    expect(report.problems).toEqual([]);
    expect(report.lost).toBe(0);
    expect(report.duplicated).toBe(0);
    expect(report.mismatched).toBe(0);
    for (const f of fenced) expect(f.fenced, `${f.name}: every pause past the session timeout is logged as fenced`).toBeGreaterThanOrEqual(f.zombies);
    expect(counts.zombie + counts.kill, 'the nemesis did kill and pause workers').toBeGreaterThan(0);
  });
});
