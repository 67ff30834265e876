/**
 * The nemesis (docs/reliability.md): a cluster of three workers, each in a network
 * namespace of its own, backs up a plain, a compacted and a transactional topic (kafka
 * layout) and an Azul topic (azul layout, against the dispatcher double), while a transactional warm-standby restore (follow mode) restores
 * the kafka-layout backup into other topics and a backup by id is taken every minute.
 * Meanwhile overlapping faults chosen from a seeded schedule: workers killed -9, paused
 * past their session and restarted; their links cut, slowed and made lossy; Kafka and S3
 * killed and paused; S3 answering slowly, 500, 503 SlowDown or resetting; the dispatcher
 * down or hanging; the store's disk full. Then a ledger of every produced record proves
 * nothing lost, nothing repeated, no overlapping objects, every completed backup by id
 * verified, and nothing of the test left behind.
 *
 * COLDSTORE_NEMESIS_SEED replays a run's choices (each lane's, not their timing);
 * COLDSTORE_NEMESIS_FAULTS sets how many faults (CI runs a bounded number; the 100-fault
 * runs of reliability.md by hand).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { streamSpoolPrefix } from '../../connectors/layouts/azul/objects.js';
import { checkBackup } from '../faults/azul-kit.js';
import { fencedCount } from '../faults/cluster-kit.js';
import { logTail, summary } from '../faults/fault-kit.js';
import { SeededRandom } from '../faults/zombie-kit.js';
import { s3Client } from '../helpers/s3.js';
import { BackupTaker } from './backups-by-id.js';
import { behind, bucketReader, committedOffsets, proveBackup, proveRestored, readTopics, untilNothingLeft } from './checker.js';
import { Ledger, ledgerProblems } from './ledger.js';
import { processAlive } from './netns-host.js';
import { removeSuiteNetworks, suiteLeftovers } from './netns.js';
import { figuresByKind, ProgressProbe, runSchedule } from './schedule.js';
import { buildStage, healEverything, tearDownStages, type Stage } from './stage.js';
import { PARTITIONS, Workload } from './workload.js';

const FAULTS = Number(process.env['COLDSTORE_NEMESIS_FAULTS'] ?? 40);
const BACKUP_EVERY_MS = Number(process.env['COLDSTORE_NEMESIS_BACKUP_EVERY_MS'] ?? 60_000);

describe('the nemesis: overlapping process, network, server, S3 and disk faults against a running cluster', () => {
  const rng = SeededRandom.fromEnv('COLDSTORE_NEMESIS_SEED');
  let stage: Stage | undefined;
  let workload: Workload | undefined;
  let backups: BackupTaker | undefined;
  let probe: ProgressProbe | undefined;

  beforeAll(async () => {
    console.info(`[nemesis] seed=${rng.seed} faults=${FAULTS} (replay: COLDSTORE_NEMESIS_SEED=${rng.seed} COLDSTORE_NEMESIS_FAULTS=${FAULTS})`);
    await removeSuiteNetworks();
  });
  afterAll(async () => {
    // Servers first: a producer waiting on a dead broker would hold the hook for minutes.
    probe?.stop();
    void backups?.stop();
    void workload?.stop().catch(() => undefined);
    await tearDownStages();
    await removeSuiteNetworks({ includeOwn: true });
  });

  it(`survives ${FAULTS} faults: every record once in each backup and each restored topic, every backup by id verified, nothing left behind`, async () => {
    const started = Date.now();
    stage = await buildStage(rng);
    const s = stage;
    const { topics, cluster } = s;
    const kafkaTopics = [
      { name: topics.plain, partitions: PARTITIONS.plain },
      { name: topics.compacted, partitions: PARTITIONS.compacted },
      { name: topics.transactional, partitions: PARTITIONS.transactional },
    ];
    const consumerOverrides = {
      'consumer.override.session.timeout.ms': String(s.sessionTimeoutMs),
      'consumer.override.heartbeat.interval.ms': '1000',
    };
    const connectors: Record<string, Record<string, string>> = {
      backup: {
        'connector.class': 'BackupSink',
        topics: kafkaTopics.map((t) => t.name).join(','),
        'tasks.max': '4',
        'backup.label': s.labels.plain,
        'bundle.max.records': '300',
        'bundle.max.age.ms': '1000',
        'gzip.level': '1',
        ...consumerOverrides,
        ...s.storage,
      },
      azul: {
        'connector.class': 'BackupSink',
        'topics.regex': topics.azul.replaceAll('.', '\\.'),
        layout: 'azul',
        'backup.label': s.labels.azul,
        'dispatcher.url': s.dispatcher.url,
        'dispatcher.timeout.ms': '10000',
        'tasks.max': '2',
        'bundle.max.records': '25',
        'bundle.max.age.ms': '1000',
        'streams.max.consecutive.failures': '100000',
        'streams.spool.retry.ms': '2000',
        'gzip.level': '1',
        ...consumerOverrides,
        ...s.storage,
      },
      standby: {
        'connector.class': 'RestoreSource',
        'restore.mode': 'follow',
        topics: kafkaTopics.map((t) => t.name).join(','),
        'topic.rename.regex': '(.*)',
        'topic.rename.replacement': '$1-standby',
        'backup.label': s.labels.plain,
        'transaction.boundary': 'poll',
        'poll.max.records': '200',
        'tasks.max': '2',
        'follow.interval.ms': '500',
        'follow.discovery.interval.ms': '2000',
        'follow.gap.timeout.ms': '600000',
        'producer.override.transaction.timeout.ms': '15000',
        ...s.storage,
      },
    };
    for (const [name, config] of Object.entries(connectors)) {
      const created = await cluster.api('POST', '/connectors', { name, config });
      expect(created.status, `${name}: ${JSON.stringify(created.body)}`).toBe(201);
    }
    await cluster.untilRunning('backup', 4, 90_000);
    await cluster.untilRunning('azul', 2, 90_000);
    await cluster.untilRunning('standby', 2, 90_000);

    const ledger = new Ledger();
    workload = new Workload(s.kafka.bootstrap, topics, ledger, rng, s.maker, s.sharedBlobs);
    await workload.start();
    backups = new BackupTaker(cluster);
    backups.start(BACKUP_EVERY_MS);
    probe = new ProgressProbe(async () => [...(await committedOffsets(s.workers, 'backup')).values()].reduce((a, b) => a + b, 0));
    probe.start();

    const log = (line: string) => console.info(`[nemesis] ${new Date().toISOString().slice(11, 19)} ${line}`);
    let faults;
    try {
      faults = await runSchedule(s, rng.seed, FAULTS, log);
    } finally {
      healEverything(s);
    }
    // A worker no lane harms any more that is not running died by itself: a finding, not a fault.
    const diedAlone = await Promise.all(
      s.workers.filter((w) => w.worker.pid === undefined).map(async (w) => `${w.name} (exit ${await w.worker.exited()}): ${logTail(w.worker, 5)}`),
    );
    for (const w of s.workers) if (w.worker.pid === undefined) await w.worker.start();
    await backups.stop();
    await workload.stop();
    const faultsOverAt = Date.now();

    // Everything settles: each backup commits past the last record, the spool drains.
    const shapes = [...kafkaTopics, { name: topics.azul, partitions: PARTITIONS.azul }];
    const truth = await readTopics(s.kafka.bootstrap, shapes, ledger);
    const kafkaTruth = kafkaTopics.flatMap((t) => truth.get(t.name)!);
    const leftBehind = await untilNothingLeft(
      'backups caught up',
      async () => [...(await behind(s.workers, 'backup', kafkaTruth)), ...(await behind(s.workers, 'azul', truth.get(topics.azul)!))],
      240_000,
    );
    const reader = bucketReader(s3Client(s.s3.endpoint));
    const spool = await untilNothingLeft('the spool drained', () => reader.keys(`coldstore-${s.labels.azul}-streams`, streamSpoolPrefix('azul')), 120_000);
    const settledMs = Date.now() - faultsOverAt;
    probe.stop();

    const ledgerIssues = shapes.flatMap((t) => ledgerProblems(ledger, t.name, truth.get(t.name)!));
    const stored = await proveBackup(s3Client(s.s3.endpoint), `coldstore-${s.labels.plain}-events`, kafkaTopics, truth);
    const azulCounts = Array.from({ length: PARTITIONS.azul }, (_, p) => truth.get(topics.azul)!.filter((r) => r.partition === p).length);
    const azul = await checkBackup(s.labels.azul, [{ spec: s.azulSpec, produced: azulCounts }], s.maker.expectedBlobs(), reader, s.kafka.bootstrap);
    const restored = await proveRestored(
      s.kafka.bootstrap,
      kafkaTopics.map((t) => ({ source: t, restored: `${t.name}-standby` })),
      truth,
      180_000,
    );
    await backups.settle();
    const lastBackup = await backups.last();
    if (lastBackup.status !== 'COMPLETED') {
      // What each worker shows, to tell a stale status from a connector that really does not run.
      for (const w of s.workers)
        console.info(`[nemesis] ${w.name} shows`, JSON.stringify((await w.worker.api('GET', '/connectors?expand=status').catch(() => undefined))?.body));
    }
    const notVerified = await backups.verifyCompleted();
    const byKind = figuresByKind(faults, probe);

    // Nothing may outlive the run: workers, forwarders, namespaces, veths.
    const processes = [...s.workers.flatMap((w) => [w.worker.pid, ...w.ns.forwarderPids()]), s.kafka.pid, s.s3.pid].filter(
      (pid): pid is number => pid !== undefined,
    );
    const storeDisk = s.s3Disk.path;
    const names = s.workers.flatMap((w) => [w.ns.name, w.ns.hostVeth]);
    const fenced = s.workers.map((w) => `${w.name}:${fencedCount(w.worker)}`).join(',');
    await tearDownStages();
    stage = undefined;
    const left = suiteLeftovers();

    const kindOf = (name: string) => Object.entries(topics).find(([, n]) => n === name)![0];
    const sum = (f: (r: { lost: number; duplicated: number }) => number) => [...stored.values(), ...restored.values(), azul].reduce((n, r) => n + f(r), 0);
    summary('nemesis', {
      seed: rng.seed,
      faults: faults.length,
      seconds: Math.round((Date.now() - started) / 1000),
      settledSeconds: Math.round(settledMs / 1000),
      records: shapes.map((t) => `${kindOf(t.name)}:${truth.get(t.name)!.length}`).join(','),
      bundles: [...stored].map(([t, r]) => `${kindOf(t)}:${r.bundles}`).join(',') + `,azul:${azul.bundles}`,
      transactions: `${workload.transactions.committed} committed/${workload.transactions.aborted} aborted/${workload.transactions.uncertain} uncertain`,
      blobs: azul.streams,
      lost: sum((r) => r.lost),
      duplicated: sum((r) => r.duplicated),
      backupsById: backups.outcomes.map((o) => `${o.id}:${o.status}`).join(','),
      fenced,
    });
    console.info(
      `[nemesis] per fault kind (count, mean length, median/max recovery, unrecovered):\n${byKind.map((k) => `  ${k.kind}: ${k.count}, ${k.meanMs} ms, ${k.medianRecoveryMs}/${k.maxRecoveryMs} ms, ${k.unrecovered}`).join('\n')}`,
    );

    expect(faults.filter((f) => f.healedAt > 0)).toHaveLength(FAULTS);
    expect(diedAlone, 'workers that died without a fault').toEqual([]);
    for (const t of shapes) expect(truth.get(t.name)!.length, `${t.name}: records to check`).toBeGreaterThan(100);
    expect(lastBackup.status, `the backup by id taken once the faults were over: ${lastBackup.reason}`).toBe('COMPLETED');
    expect(leftBehind, 'every backup caught up once the faults were over').toEqual([]);
    expect(spool, 'the azul spool drained').toEqual([]);
    expect(ledgerIssues, 'the broker holds what the producers were told').toEqual([]);
    for (const [topic, report] of stored) {
      expect(report.problems, `${topic}: backup problems (overlaps, gaps, bad objects)`).toEqual([]);
      expect([report.lost, report.duplicated, report.mismatched], `${topic}: lost, duplicated, mismatched`).toEqual([0, 0, 0]);
    }
    expect(azul.problems, 'azul backup problems').toEqual([]);
    expect([azul.lost, azul.duplicated, azul.mismatched], 'azul: lost, duplicated, mismatched').toEqual([0, 0, 0]);
    for (const [topic, report] of restored) {
      expect(report.problems, `${topic}: restored records differ from the source`).toEqual([]);
      expect([report.lost, report.duplicated, report.outOfOrder], `${topic}: lost, duplicated, partitions out of order`).toEqual([0, 0, 0]);
    }
    expect(notVerified, 'every completed backup by id verifies').toEqual([]);
    expect(
      backups.outcomes.filter((o) => o.status.startsWith('IN_PROGRESS')),
      'no backup by id stays in progress',
    ).toEqual([]);
    expect(
      left.namespaces.filter((n) => names.includes(n)),
      'no namespace left',
    ).toEqual([]);
    expect(
      left.links.filter((n) => names.includes(n)),
      'no veth left',
    ).toEqual([]);
    expect(processes.filter(processAlive), 'no worker, forwarder or server outlives the run').toEqual([]);
    expect(readFileSync('/proc/mounts', 'utf8').includes(storeDisk), 'the store disk is unmounted').toBe(false);
  });
});
