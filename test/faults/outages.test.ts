import type { S3Client } from '@aws-sdk/client-s3';
/**
 * Servers away for a minute (docs/reliability.md): a private S3 server, then a private Kafka
 * broker, is stopped for 60 s while a BackupSink and a transactional RestoreSource are
 * both mid-way on one worker process, then started again (same data, same port). Each
 * job must complete by itself afterwards with nothing lost — the backup with every
 * offset exactly once, the restore with every record exactly once for read_committed
 * readers — while the worker stays up and no task ends FAILED (RUNNING with retriable
 * errors counted is fine). The shared stack is never touched.
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { readPartitions } from '../helpers/broker-records.js';
import { bootstrap, createTopic, produceLines, produceLinesAsync } from '../helpers/kafka.js';
import { fetchAll, listKeys, s3Client, s3Settings } from '../helpers/s3.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { freePort, WorkerProcess } from '../helpers/worker-process.js';
import { KafkaAdmin } from '../../runtime/kafka/admin.js';
import { PrivateS3 } from '../stack/stack.js';
import {
  expectHealthy,
  metricTotal,
  proveExactlyOnce,
  restoredCount,
  sleep,
  startWorker,
  summary,
  tasksOf,
  until,
  untilBackedUp,
  waitFinished,
  type ExactlyOnceReport,
  type TaskState,
} from './fault-kit.js';
import { PrivateKafka, produceTo, readTextRecords } from './private-kafka.js';

const OUTAGE_MS = 60_000;
const PARTITIONS = 2;
/** Records per partition of the backup that is restored (in small bundles, so the restore takes a while). */
const RESTORE_PER_PARTITION = 5000;

const lines = (p: number, from: number, count: number) => Array.from({ length: count }, (_, i) => `k-${p}-${from + i}:v-${p}-${from + i}`);
const textDifferences = (backedUp: { key: Buffer | null; value: Buffer | null }, source: { key: string; value: string }) => [
  ...(backedUp.key?.toString() === source.key ? [] : ['key']),
  ...(backedUp.value?.toString() === source.value ? [] : ['value']),
];

/** Creates a connector over REST, failing with the answer if it is refused. */
async function create(worker: WorkerProcess, name: string, config: Record<string, string>): Promise<void> {
  const res = await worker.api('POST', '/connectors', { name, config });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

/** Committed offsets of a sink connector's partitions, from its status. */
async function sinkCommitted(worker: WorkerProcess, name: string): Promise<number[]> {
  const tasks = await tasksOf(worker, name);
  return tasks.flatMap((t) => ((t.progress?.['partitions'] as { committed_offset: number | null }[] | undefined) ?? []).map((p) => p.committed_offset ?? 0));
}

/** Backs `topic` up into the store (the fixture a restore reads), then removes the connector. */
async function backUpFixture(worker: WorkerProcess, topic: string, store: Record<string, string>): Promise<void> {
  const name = uniqueName('fixture');
  await create(worker, name, {
    'connector.class': 'BackupSink',
    topics: topic,
    'bundle.max.records': '20',
    'bundle.max.age.ms': '300',
    'gzip.level': '1',
    ...store,
  });
  await until(
    'fixture backed up',
    async () => {
      const committed = await sinkCommitted(worker, name);
      return committed.length === PARTITIONS && committed.every((o) => o === RESTORE_PER_PARTITION) ? true : undefined;
    },
    180_000,
  );
  expect((await worker.api('DELETE', `/connectors/${name}`)).status).toBe(204);
}

/**
 * Watches the worker through the outage: /health must answer 200 and no task may be
 * FAILED at any check. Returns the states seen.
 */
async function rideOut(worker: WorkerProcess, names: string[], ms: number): Promise<Set<string>> {
  const seen = new Set<string>();
  const end = Date.now() + ms;
  while (Date.now() < end) {
    await sleep(Math.min(5_000, Math.max(0, end - Date.now())));
    await expectHealthy(worker);
    for (const name of names) {
      const tasks: TaskState[] = await tasksOf(worker, name);
      for (const t of tasks) {
        seen.add(`${name}:${t.state}`);
        expect(t.state, `${name} task ${t.id} during the outage: ${t.trace}`).not.toBe('FAILED');
      }
    }
  }
  return seen;
}

/** Starts the backup of a topic being written and the restore of a finished backup, and waits until both are under way. */
async function startBothJobs(
  worker: WorkerProcess,
  jobs: {
    backupTopic: string;
    backupLabel: string;
    backupBucket: string;
    restoreSource: string;
    restoreTarget: string;
    restoreLabel: string;
    store: Record<string, string>;
    client: S3Client;
  },
): Promise<void> {
  const { backupTopic, backupLabel, backupBucket, restoreSource, restoreTarget, restoreLabel, store, client } = jobs;
  await create(worker, 'backup', {
    'connector.class': 'BackupSink',
    topics: backupTopic,
    'backup.label': backupLabel,
    'bundle.max.records': '100',
    'bundle.max.age.ms': '500',
    ...store,
  });
  await create(worker, 'restore', {
    'connector.class': 'RestoreSource',
    topics: restoreSource,
    'topic.rename': `${restoreSource}:${restoreTarget}`,
    'transaction.boundary': 'poll',
    'poll.max.records': '100',
    'fetch.max.in.flight': '1',
    'backup.label': restoreLabel,
    ...store,
  });
  await until(
    'both jobs under way',
    async () => {
      const bundles = (await listKeys(client, backupBucket).catch(() => [])).length;
      return bundles >= 2 && (await restoredCount(worker, 'restore')) > 0 ? true : undefined;
    },
    120_000,
    50,
  );
}

/** The backup holds every produced offset exactly once, and the restore every record of each partition in order. */
function expectNothingLost(report: ExactlyOnceReport, restoredValues: string[][]): void {
  expect(report.problems).toEqual([]);
  expect(report.lost + report.duplicated + report.mismatched).toBe(0);
  for (let p = 0; p < PARTITIONS; p++) {
    expect(restoredValues[p], `restored partition ${p}`).toEqual(Array.from({ length: RESTORE_PER_PARTITION }, (_, i) => `v-${p}-${i}`));
  }
}

describe('outages: S3 server and Kafka broker stopped for a minute mid-backup and mid-restore', () => {
  const workers: WorkerProcess[] = [];
  let s3: PrivateS3 | undefined;
  let kafka: PrivateKafka | undefined;
  let s3Dir: string | undefined;
  afterAll(async () => {
    for (const w of workers) await w.kill('SIGKILL');
    await s3?.stop();
    await kafka?.stop();
    for (const dir of [s3Dir, kafka?.dir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('S3 down for 60 s: the backup and the restore wait, stay RUNNING, and complete exactly once afterwards', async () => {
    const started = Date.now();
    s3Dir = tmpDir('faults-private-s3');
    s3 = new PrivateS3(s3Dir, await freePort());
    await s3.start();
    const store = { ...s3Settings(), 's3.endpoint': s3.endpoint };
    const client = s3Client(s3.endpoint);
    const dir = tmpDir('faults-s3-outage');
    const worker = new WorkerProcess(dir, await freePort(), { 'bootstrap.servers': bootstrap(), 'offset.flush.interval.ms': 300 });
    workers.push(worker);
    expect(await startWorker(worker, [])).toBe('started');

    // The restore's backup: many small bundles, so the restore is still reading when the store goes.
    const restoreSource = uniqueName('fs3r');
    const restoreTarget = `${restoreSource}-restored`;
    const restoreLabel = uniqueName('fs3r').toLowerCase();
    await createTopic(restoreSource, PARTITIONS);
    for (let p = 0; p < PARTITIONS; p++) produceLines(restoreSource, p, lines(p, 0, RESTORE_PER_PARTITION));
    await backUpFixture(worker, restoreSource, { ...store, 'backup.label': restoreLabel });

    // The backed-up topic is written to before, during and after the outage.
    const backupTopic = uniqueName('fs3b');
    const backupLabel = uniqueName('fs3b').toLowerCase();
    const backupBucket = `coldstore-${backupLabel}-events`;
    await createTopic(backupTopic, PARTITIONS);
    const produced = Array.from({ length: PARTITIONS }, () => 0);
    let producing = true;
    const production = (async () => {
      while (producing) {
        await Promise.all(
          Array.from({ length: PARTITIONS }, (_, p) => produceLinesAsync(backupTopic, p, lines(p, produced[p]!, 20)).then(() => (produced[p]! += 20))),
        );
        await sleep(100);
      }
    })();

    await startBothJobs(worker, { backupTopic, backupLabel, backupBucket, restoreSource, restoreTarget, restoreLabel, store, client });

    await s3.stop();
    const outageAt = Date.now();
    const restoredAtOutage = await restoredCount(worker, 'restore');
    expect(restoredAtOutage, 'the restore finished before the outage: make its backup larger').toBeLessThan(PARTITIONS * RESTORE_PER_PARTITION);
    const seen = await rideOut(worker, ['backup', 'restore'], OUTAGE_MS - 5_000);
    const backupErrors = await metricTotal(worker, 'coldstore_backup_errors_total', { kind: 'transient' });
    const restoreErrors = await metricTotal(worker, 'coldstore_task_errors_total', { connector: 'restore', kind: 'retriable' });
    const restoredDuringOutage = (await restoredCount(worker, 'restore')) - restoredAtOutage;
    expect(backupErrors, 'the backup counts its failed uploads as transient').toBeGreaterThan(0);
    expect(restoreErrors, 'the restore counts retriable errors').toBeGreaterThan(0);
    expect(await restoredCount(worker, 'restore')).toBeLessThan(PARTITIONS * RESTORE_PER_PARTITION);
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - outageAt)));
    const outageMs = Date.now() - outageAt;
    await s3.start();
    const recoveredAt = Date.now();
    await sleep(3_000);
    producing = false;
    await production;

    // Both complete by themselves.
    const restoreTasks = await waitFinished(worker, 'restore', 240_000);
    const restoreDoneAfter = Date.now() - recoveredAt;
    expect(restoreTasks.reduce((n, t) => n + Number(t.progress?.records), 0)).toBe(PARTITIONS * RESTORE_PER_PARTITION);
    const expectedCount = produced.reduce((a, b) => a + b, 0);
    const source = await readPartitions(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: backupTopic, partition, count: produced[partition]! })));
    expect(source).toHaveLength(expectedCount);
    await untilBackedUp(worker, client, backupBucket, expectedCount, 240_000);
    const backupDoneAfter = Date.now() - recoveredAt;
    for (const name of ['backup', 'restore']) for (const t of await tasksOf(worker, name)) expect(t.state, `${name}: ${t.trace}`).not.toBe('FAILED');
    await expectHealthy(worker);
    expect(await worker.kill('SIGTERM')).toBe(0);

    const report = proveExactlyOnce(backupTopic, PARTITIONS, await fetchAll(client, backupBucket), source, (b, s) =>
      textDifferences(b, { key: s.key!.toString(), value: s.value!.toString() }),
    );
    const restored = await readPartitions(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: restoreTarget, partition })));
    const restoredValues = Array.from({ length: PARTITIONS }, (_, p) => restored.filter((r) => r.partition === p).map((r) => r.value!.toString()));
    const restoreLost = restoredValues.reduce((n, values, p) => n + RESTORE_PER_PARTITION - new Set(values.filter((v) => v.startsWith(`v-${p}-`))).size, 0);
    const restoreDuplicated = restoredValues.reduce((n, values) => n + values.length - new Set(values).size, 0);
    summary('outages/s3', {
      runs: 1,
      faults: `1 (S3 down ${Math.round(outageMs / 1000)} s mid-backup and mid-restore)`,
      'records checked': source.length + PARTITIONS * RESTORE_PER_PARTITION,
      'lost(backup/restore)': `${report.lost}/${restoreLost}`,
      'duplicated(backup/restore)': `${report.duplicated}/${restoreDuplicated}`,
      'states seen': [...seen].sort().join(','),
      'errors counted(backup transient/restore retriable)': `${backupErrors}/${restoreErrors}`,
      'restored at outage': `${restoredAtOutage}/${PARTITIONS * RESTORE_PER_PARTITION} (+${restoredDuringOutage} during)`,
      'done after recovery(backup/restore)': `${Math.round(backupDoneAfter / 1000)}s/${Math.round(restoreDoneAfter / 1000)}s`,
      seconds: Math.round((Date.now() - started) / 1000),
    });
    expectNothingLost(report, restoredValues);
  });

  it('Kafka broker down for 60 s: the backup and the restore wait, stay RUNNING, and complete exactly once afterwards', async () => {
    const started = Date.now();
    kafka = await PrivateKafka.create(tmpDir('faults-private-kafka'));
    await kafka.start();
    const brokers = kafka.bootstrap;
    const store = s3Settings();
    const dir = tmpDir('faults-kafka-outage');
    const worker = new WorkerProcess(dir, await freePort(), { 'bootstrap.servers': brokers, 'offset.flush.interval.ms': 300 });
    workers.push(worker);
    expect(await startWorker(worker, [])).toBe('started');
    const admin = new KafkaAdmin({ bootstrapServers: brokers, extra: {} }, 'faults-admin');
    const restoreSource = uniqueName('fkr');
    const restoreTarget = `${restoreSource}-restored`;
    const restoreLabel = uniqueName('fkr').toLowerCase();
    const backupTopic = uniqueName('fkb');
    const backupLabel = uniqueName('fkb').toLowerCase();
    const backupBucket = `coldstore-${backupLabel}-events`;
    try {
      await admin.createTopic(restoreSource, PARTITIONS);
      await admin.createTopic(backupTopic, PARTITIONS);
    } finally {
      admin.disconnect();
    }

    // The restore's backup, taken from the private broker into the shared S3.
    for (let p = 0; p < PARTITIONS; p++) await produceTo(brokers, restoreSource, p, lines(p, 0, RESTORE_PER_PARTITION));
    await backUpFixture(worker, restoreSource, { ...store, 'backup.label': restoreLabel });

    const produced = Array.from({ length: PARTITIONS }, () => 0);
    const produce = async (count: number) => {
      await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => produceTo(brokers, backupTopic, p, lines(p, produced[p]!, count))));
      for (let p = 0; p < PARTITIONS; p++) produced[p]! += count;
    };
    await produce(1000);
    const client = s3Client();
    await startBothJobs(worker, { backupTopic, backupLabel, backupBucket, restoreSource, restoreTarget, restoreLabel, store, client });
    // A burst just before the broker goes, so the backup is busy with it when it does.
    await produce(2000);

    await kafka.stop('SIGKILL');
    const outageAt = Date.now();
    const restoredAtOutage = await restoredCount(worker, 'restore');
    expect(restoredAtOutage, 'the restore finished before the outage: make its backup larger').toBeLessThan(PARTITIONS * RESTORE_PER_PARTITION);
    const seen = await rideOut(worker, ['backup', 'restore'], OUTAGE_MS - 5_000);
    const restoreErrors = await metricTotal(worker, 'coldstore_task_errors_total', { connector: 'restore', kind: 'retriable' });
    const backupErrors = await metricTotal(worker, 'coldstore_task_errors_total', { connector: 'backup', kind: 'retriable' });
    expect(await restoredCount(worker, 'restore')).toBeLessThan(PARTITIONS * RESTORE_PER_PARTITION);
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - outageAt)));
    const outageMs = Date.now() - outageAt;
    await kafka.start();
    const recoveredAt = Date.now();
    await produce(500);

    const restoreTasks = await waitFinished(worker, 'restore', 300_000);
    const restoreDoneAfter = Date.now() - recoveredAt;
    expect(restoreTasks.reduce((n, t) => n + Number(t.progress?.records), 0)).toBe(PARTITIONS * RESTORE_PER_PARTITION);
    const expectedCount = produced.reduce((a, b) => a + b, 0);
    const source = await readTextRecords(brokers, backupTopic, PARTITIONS);
    expect(source).toHaveLength(expectedCount);
    await untilBackedUp(worker, client, backupBucket, expectedCount, 240_000);
    const backupDoneAfter = Date.now() - recoveredAt;
    for (const name of ['backup', 'restore']) for (const t of await tasksOf(worker, name)) expect(t.state, `${name}: ${t.trace}`).not.toBe('FAILED');
    await expectHealthy(worker);
    expect(await worker.kill('SIGTERM')).toBe(0);

    const report = proveExactlyOnce(backupTopic, PARTITIONS, await fetchAll(client, backupBucket), source, textDifferences);
    const restored = await readTextRecords(brokers, restoreTarget, PARTITIONS);
    const restoredValues = Array.from({ length: PARTITIONS }, (_, p) => restored.filter((r) => r.partition === p).map((r) => r.value));
    const restoreLost = restoredValues.reduce((n, values, p) => n + RESTORE_PER_PARTITION - new Set(values.filter((v) => v.startsWith(`v-${p}-`))).size, 0);
    const restoreDuplicated = restoredValues.reduce((n, values) => n + values.length - new Set(values).size, 0);
    summary('outages/kafka', {
      runs: 1,
      faults: `1 (broker killed, down ${Math.round(outageMs / 1000)} s mid-backup and mid-restore)`,
      'records checked': source.length + PARTITIONS * RESTORE_PER_PARTITION,
      'lost(backup/restore)': `${report.lost}/${restoreLost}`,
      'duplicated(backup/restore)': `${report.duplicated}/${restoreDuplicated}`,
      'states seen': [...seen].sort().join(','),
      'retriable errors counted(backup/restore)': `${backupErrors}/${restoreErrors}`,
      'restored at outage': `${restoredAtOutage}/${PARTITIONS * RESTORE_PER_PARTITION}`,
      'done after recovery(backup/restore)': `${Math.round(backupDoneAfter / 1000)}s/${Math.round(restoreDoneAfter / 1000)}s`,
      seconds: Math.round((Date.now() - started) / 1000),
    });
    expectNothingLost(report, restoredValues);
  });
});
