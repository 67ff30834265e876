/**
 * Bad input everywhere (docs/reliability.md): a tour of what operators and their data get
 * wrong, each met with a clear error, nothing lost, and the worker staying up (GET
 * /health answers 200 after each): invalid connector configs, an unknown plugin class,
 * a BackupSink on a topic that does not exist yet, corrupt and foreign objects in the
 * bucket a restore reads, a record larger than the target topic allows, and a full disk
 * under the local object store and under the checkpoint store.
 *
 * Not here: the dispatcher's 4xx/5xx/garbage answers and an object store refusing the
 * stream spool (now in the streams bucket, not on a local disk) of the `azul` layout are
 * in azul-backup-faults.test.ts (see docs/reliability.md).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaAdmin } from '../../runtime/kafka/admin.js';
import { readPartitions } from '../helpers/broker-records.js';
import { bootstrap, createTopic, produceLines, produceLinesAsync, produceRecords } from '../helpers/kafka.js';
import { fetchAll, listKeys, recordCount, s3Client, s3Settings } from '../helpers/s3.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { freePort, WorkerProcess } from '../helpers/worker-process.js';
import {
  expectHealthy,
  localBundles,
  logTail,
  metricTotal,
  proveExactlyOnce,
  recordDifferences,
  restoredCount,
  sleep,
  SmallDisk,
  startWorker,
  summary,
  tasksOf,
  until,
  waitFinished,
  type TaskState,
} from './fault-kit.js';

const KAFKA_LIB = join(import.meta.dirname, '..', '..', '.stack', 'lib', 'kafka');
const KEYS_AND_VALUES = (p: number, from: number, count: number) => Array.from({ length: count }, (_, i) => `k-${p}-${from + i}:v-${p}-${from + i}`);

/** Changes a topic config with Kafka's own ConfigCommand (the client library cannot alter configs). */
function alterTopicConfig(topic: string, config: string): void {
  execFileSync(
    'java',
    [
      '-cp',
      `${KAFKA_LIB}/*`,
      'kafka.admin.ConfigCommand',
      '--bootstrap-server',
      bootstrap(),
      '--alter',
      '--entity-type',
      'topics',
      '--entity-name',
      topic,
      '--add-config',
      config,
    ],
    {
      stdio: 'pipe',
      timeout: 120_000,
    },
  );
}

describe('bad input: a clear error, nothing lost, the worker stays up', () => {
  let worker: WorkerProcess;
  const extraWorkers: WorkerProcess[] = [];
  const disks: SmallDisk[] = [];
  const results: string[] = [];
  let checked = 0;
  const losses = { lost: 0, duplicated: 0 };
  const tally = (lost: number, duplicated: number) => {
    losses.lost += lost;
    losses.duplicated += duplicated;
  };

  beforeAll(async () => {
    worker = new WorkerProcess(tmpDir('faults-bad-input'), await freePort(), { 'bootstrap.servers': bootstrap(), 'offset.flush.interval.ms': 300 });
    expect(await startWorker(worker, [])).toBe('started');
  });

  afterAll(async () => {
    await worker?.kill('SIGKILL');
    for (const w of extraWorkers) await w.kill('SIGKILL');
    for (const d of disks) d.destroy();
    summary('bad-input', {
      runs: 1,
      faults: results.length,
      'records checked': checked,
      lost: losses.lost,
      duplicated: losses.duplicated,
      cases: results.join(' | '),
    });
  });

  async function create(name: string, config: Record<string, string>, on: WorkerProcess = worker): Promise<void> {
    const res = await on.api('POST', '/connectors', { name, config });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }

  async function waitFailed(name: string, on: WorkerProcess = worker, timeoutMs = 90_000): Promise<TaskState> {
    return until(`${name} FAILED`, async () => (await tasksOf(on, name)).find((t) => t.state === 'FAILED'), timeoutMs);
  }

  it('invalid connector configs: 400 listing every bad field; nothing is created', async () => {
    const backup = await worker.api('POST', '/connectors', {
      name: 'bad-backup',
      config: {
        'connector.class': 'BackupSink',
        'tasks.max': '0',
        topics: 'a',
        'topics.regex': 'b.*',
        'bundle.max.records': 'lots',
        'bundle.max.age.ms': '5',
        'gzip.level': '12',
        'storage.type': 'ftp',
      },
    });
    expect(backup.status).toBe(400);
    expect(backup.body.code).toBe('CONFIG_INVALID');
    const backupFields = new Set((backup.body.fields as { field: string }[]).map((f) => f.field));
    for (const field of ['tasks.max', 'topics', 'bundle.max.records', 'bundle.max.age.ms', 'gzip.level', 'storage.type']) {
      expect(backupFields, `400 names ${field}: ${backup.body.message}`).toContain(field);
      expect(backup.body.message).toContain(field);
    }
    const restore = await worker.api('POST', '/connectors', {
      name: 'bad-restore',
      config: {
        'connector.class': 'RestoreSource',
        'transaction.boundary': 'sometimes',
        'on.bad.object': 'ignore',
        'restore.until.timestamp': 'yesterday',
        'poll.max.records': '0',
        'restore.until.offsets': 'orders-0-12',
      },
    });
    expect(restore.status).toBe(400);
    const restoreFields = new Set((restore.body.fields as { field: string }[]).map((f) => f.field));
    for (const field of ['topics', 'transaction.boundary', 'on.bad.object', 'restore.until.timestamp', 'poll.max.records', 'restore.until.offsets']) {
      expect(restoreFields, `400 names ${field}: ${restore.body.message}`).toContain(field);
    }
    const validated = await worker.api('PUT', '/connector-plugins/RestoreSource/config/validate', {
      'transaction.boundary': 'sometimes',
      'poll.max.records': '0',
    });
    expect(validated.status).toBe(200);
    expect(validated.body.error_count).toBeGreaterThanOrEqual(3);
    const notJson = await fetch(`${worker.url}/connectors`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name": "x", "config": ',
    });
    expect(notJson.status).toBe(400);
    expect((await worker.api('GET', '/connectors')).body).toEqual([]);
    await expectHealthy(worker);
    results.push(`invalid configs: 400 naming ${backupFields.size}+${restoreFields.size} fields`);
  });

  it('an unknown plugin class: 400 naming it and the known ones; the validate endpoint answers 404', async () => {
    const res = await worker.api('POST', '/connectors', { name: 'nope', config: { 'connector.class': 'com.example.NoSuchConnector', topics: 'x' } });
    expect(res.status).toBe(400);
    expect(res.body.fields.map((f: { field: string }) => f.field)).toContain('connector.class');
    expect(res.body.message).toContain('com.example.NoSuchConnector');
    expect(res.body.message).toContain('BackupSink');
    const validate = await worker.api('PUT', '/connector-plugins/com.example.NoSuchConnector/config/validate', {});
    expect(validate.status).toBe(404);
    expect(validate.body.code).toBe('PLUGIN_NOT_FOUND');
    expect((await worker.api('GET', '/connectors')).body).toEqual([]);
    await expectHealthy(worker);
    results.push('unknown plugin: 400 / 404 PLUGIN_NOT_FOUND');
  });

  let cleanBackup: { topic: string; label: string; records: number } | undefined;

  it('a BackupSink on a topic that does not exist yet waits (RUNNING) and backs it up once it is created', async () => {
    const topic = uniqueName('fnotyet');
    const label = uniqueName('fnotyet').toLowerCase();
    const bucket = `coldstore-${label}-events`;
    await create('backup-unknown-topic', {
      'connector.class': 'BackupSink',
      topics: topic,
      'backup.label': label,
      'bundle.max.records': '50',
      'bundle.max.age.ms': '300',
      ...s3Settings(),
    });
    // Twenty seconds without the topic: the task keeps waiting, never fails, and writes nothing.
    for (let i = 0; i < 10; i++) {
      await sleep(2_000);
      const tasks = await tasksOf(worker, 'backup-unknown-topic');
      expect(
        tasks.map((t) => t.state),
        JSON.stringify(tasks),
      ).toEqual(['RUNNING']);
    }
    const admin = new KafkaAdmin({ bootstrapServers: bootstrap(), extra: {} }, 'faults-admin');
    try {
      // Nothing created the topic behind our back (a consumer must not auto-create what it backs up).
      expect(await admin.describeTopic(topic)).toBeUndefined();
      await createTopic(topic, 2);
      expect((await admin.describeTopic(topic))?.partitions).toBe(2);
    } finally {
      admin.disconnect();
    }
    for (let p = 0; p < 2; p++) produceLines(topic, p, KEYS_AND_VALUES(p, 0, 300));
    const client = s3Client();
    const objects = await until(
      'the new topic backed up',
      async () => {
        const all = await fetchAll(client, bucket).catch(() => []);
        return recordCount(all) >= 600 ? all : undefined;
      },
      120_000,
      1_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${logTail(worker)}`);
    });
    const source = await readPartitions([0, 1].map((partition) => ({ topic, partition, count: 300 })));
    const report = proveExactlyOnce(topic, 2, objects, source, recordDifferences);
    expect(report.problems).toEqual([]);
    expect(report.lost + report.duplicated + report.mismatched).toBe(0);
    checked += source.length;
    expect((await worker.api('DELETE', '/connectors/backup-unknown-topic')).status).toBe(204);
    await expectHealthy(worker);
    cleanBackup = { topic, label, records: 600 };
    tally(report.lost, report.duplicated);
    results.push('unknown topic: RUNNING for 20 s, then backed up exactly once');
  });

  it('corrupt, truncated, checksum-mismatched and foreign objects: fail names the key; skip restores the rest and reports each', async () => {
    const topic = uniqueName('fbadobj');
    const label = uniqueName('fbadobj').toLowerCase();
    const bucket = `coldstore-${label}-events`;
    await createTopic(topic, 1);
    produceLines(topic, 0, KEYS_AND_VALUES(0, 0, 300));
    await create('backup-badobj', {
      'connector.class': 'BackupSink',
      topics: topic,
      'backup.label': label,
      'bundle.max.records': '50',
      'bundle.max.age.ms': '300',
      ...s3Settings(),
    });
    const client = s3Client();
    const bundleKeys = async () => (await listKeys(client, bucket).catch(() => [] as string[])).filter((k) => k.endsWith('.avro.gz')).sort();
    await until('6 bundles', async () => ((await bundleKeys()).length === 6 ? true : undefined), 90_000);
    await sleep(1_000);
    expect((await worker.api('DELETE', '/connectors/backup-badobj')).status).toBe(204);
    const keys = await bundleKeys();
    expect(keys).toHaveLength(6);
    const get = async (key: string) => {
      const body = Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray());
      const metadata = (await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).Metadata ?? {};
      return { body, metadata };
    };
    const put = (key: string, body: Buffer, metadata: Record<string, string> = {}) =>
      client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, Metadata: metadata }));
    // Bundle 2: not gzip at all. Bundle 4: cut in half. Bundle 5: a valid gzip whose content
    // differs from its checksum by one byte. And a stray file among the bundles.
    const b2 = await get(keys[1]!);
    await put(keys[1]!, Buffer.from('not gzip at all'), b2.metadata);
    const b4 = await get(keys[3]!);
    await put(keys[3]!, b4.body.subarray(0, Math.floor(b4.body.length / 2)), b4.metadata);
    const b5 = await get(keys[4]!);
    const container = gunzipSync(b5.body);
    const flipped = container.length - 20;
    container[flipped] = container[flipped]! ^ 0xff;
    await put(keys[4]!, gzipSync(container), b5.metadata);
    const foreign = `${topic}/0/notes.txt`;
    await put(foreign, Buffer.from('hello, this is not a bundle'));
    const expectedKept = [0, 2, 5].flatMap((b) => Array.from({ length: 50 }, (_, i) => `v-0-${b * 50 + i}`));

    const restoreConfig = (target: string, onBad: string) => ({
      'connector.class': 'RestoreSource',
      topics: topic,
      'topic.rename': `${topic}:${target}`,
      'backup.label': label,
      'on.bad.object': onBad,
      ...s3Settings(),
    });
    await create('restore-badobj-fail', restoreConfig(`${topic}-fail`, 'fail'));
    const failed = await waitFailed('restore-badobj-fail');
    expect(failed.trace).toContain('BACKUP_OBJECT_INVALID');
    expect(failed.trace).toContain(keys[1]);
    expect(failed.trace).toMatch(/corrupt-gzip/);
    await expectHealthy(worker);
    // What came before the bad object is restored, once; nothing after it.
    const beforeBad = await readPartitions([{ topic: `${topic}-fail`, partition: 0 }]);
    expect(beforeBad.map((r) => r.value!.toString())).toEqual(Array.from({ length: 50 }, (_, i) => `v-0-${i}`));

    await create('restore-badobj-skip', restoreConfig(`${topic}-skip`, 'skip'));
    const [task] = await waitFinished(worker, 'restore-badobj-skip', 90_000);
    const progress = task!.progress as { records: number; bad_objects: number; skipped: { kind: string; key: string; message: string }[] };
    const skipped = progress.skipped.map((s) => `${s.kind} ${s.key}`).sort();
    expect(skipped).toEqual(expect.arrayContaining([`corrupt-gzip ${keys[1]}`, `checksum ${keys[4]}`, `foreign ${foreign}`]));
    expect(
      skipped.some((s) => s.endsWith(keys[3]!) && /^(corrupt-gzip|truncated) /.test(s)),
      skipped.join('; '),
    ).toBe(true);
    for (const s of progress.skipped) expect(s.message).toContain(s.key);
    expect(progress.records).toBe(150);
    const restored = await readPartitions([{ topic: `${topic}-skip`, partition: 0 }]);
    expect(restored.map((r) => r.value!.toString())).toEqual(expectedKept);
    expect(await metricTotal(worker, 'coldstore_restore_bad_objects_total', {})).toBeGreaterThanOrEqual(4);
    checked += 200;
    tally(
      expectedKept.length - new Set(restored.map((r) => r.value!.toString())).size,
      restored.length - new Set(restored.map((r) => r.value!.toString())).size,
    );
    await expectHealthy(worker);
    results.push(
      `bad objects: fail names ${keys[1]!.split('/').pop()}; skip reports ${skipped.length} (${[...new Set(progress.skipped.map((s) => s.kind))].join(',')}) and restores the other 150`,
    );
  });

  it('a record larger than the target topic allows: KAFKA_ERROR naming the topic; completes exactly once after the topic is fixed', async () => {
    const topic = uniqueName('fbig');
    const target = `${topic}-restored`;
    const root = tmpDir('faults-big-objects');
    const label = 'big';
    await createTopic(topic, 1);
    const big = randomBytes(300 * 1024);
    await produceRecords(
      Array.from({ length: 41 }, (_, i) => ({ topic, partition: 0, key: Buffer.from(`k-${i}`), value: i === 20 ? big : Buffer.from(`v-${i}`) })),
    );
    await create('backup-big', {
      'connector.class': 'BackupSink',
      topics: topic,
      'storage.type': 'local',
      'local.root': root,
      'backup.label': label,
      'bundle.max.records': '10',
      'bundle.max.age.ms': '300',
    });
    await until('41 records backed up', async () => (recordCount(localBundles(root, `coldstore-${label}-events`)) >= 41 ? true : undefined), 90_000);
    expect((await worker.api('DELETE', '/connectors/backup-big')).status).toBe(204);
    await createTopic(target, 1, { 'max.message.bytes': '100000' });

    await create('restore-big', {
      'connector.class': 'RestoreSource',
      topics: topic,
      'topic.rename': `${topic}:${target}`,
      'topic.create': 'false',
      'transaction.boundary': 'poll',
      'poll.max.records': '5',
      'storage.type': 'local',
      'local.root': root,
      'backup.label': label,
    });
    const failed = await waitFailed('restore-big');
    expect(failed.trace).toContain('KAFKA_ERROR');
    expect(failed.trace).toContain(target);
    expect(failed.trace).toMatch(/max\.message\.bytes/);
    await expectHealthy(worker);
    const before = await readPartitions([{ topic: target, partition: 0 }]);
    expect(before.map((r) => r.value!.toString())).toEqual(Array.from({ length: 20 }, (_, i) => `v-${i}`));
    const namesRecord = /offset 20\b|k-20|00000000000000000020/.test(failed.trace ?? '');

    // The operator raises the topic's limit and restarts the task: it resumes where it stopped.
    alterTopicConfig(target, 'max.message.bytes=1048576');
    expect((await worker.api('POST', '/connectors/restore-big/tasks/0/restart')).status).toBe(204);
    await waitFinished(worker, 'restore-big', 90_000);
    const source = await readPartitions([{ topic, partition: 0, count: 41 }]);
    const after = await readPartitions([{ topic: target, partition: 0, count: 41 }]);
    expect(after).toHaveLength(41);
    for (const [i, r] of after.entries()) {
      expect(r.key?.equals(source[i]!.key!)).toBe(true);
      expect(r.value?.equals(source[i]!.value!), `record ${i}`).toBe(true);
    }
    checked += 41;
    tally(41 - new Set(after.map((r) => r.offset)).size, 0);
    await expectHealthy(worker);
    results.push(
      `oversized record: FAILED KAFKA_ERROR naming the topic${namesRecord ? ' and the record' : ' (not the record)'}, then every record exactly once after the fix`,
    );
  });

  it('the local object store runs out of disk during a backup: a clear error, nothing lost, done once space is freed', async () => {
    const disk = new SmallDisk(tmpDir('faults-full-objects'), 4);
    disks.push(disk);
    disk.fill(3 * 1024 * 1024);
    const topic = uniqueName('ffullobj');
    const label = 'full';
    const bucket = `coldstore-${label}-events`;
    await createTopic(topic, 2);
    const transientBefore = await metricTotal(worker, 'coldstore_backup_errors_total', { kind: 'transient' });
    await create('backup-full-objects', {
      'connector.class': 'BackupSink',
      topics: topic,
      'storage.type': 'local',
      'local.root': disk.path,
      'backup.label': label,
      'bundle.max.records': '100',
      'bundle.max.age.ms': '300',
      'gzip.level': '1',
    });
    // About 2 MB of incompressible records into the last 1 MB of the disk.
    for (let from = 0; from < 1000; from += 100) {
      await produceRecords(
        Array.from({ length: 200 }, (_, i) => ({ topic, partition: i % 2, key: Buffer.from(`k-${from + (i >> 1)}`), value: randomBytes(1000) })),
      );
    }
    const seen = await until(
      'the backup reports the full disk',
      async () => {
        const [task] = await tasksOf(worker, 'backup-full-objects');
        if (task?.state === 'FAILED') return { state: 'FAILED', trace: task.trace ?? '' };
        const transient = await metricTotal(worker, 'coldstore_backup_errors_total', { kind: 'transient' });
        const retriable = await metricTotal(worker, 'coldstore_task_errors_total', { connector: 'backup-full-objects', kind: 'retriable' });
        return transient > transientBefore || retriable > 0 ? { state: task?.state ?? '?', trace: `transient=${transient} retriable=${retriable}` } : undefined;
      },
      90_000,
    );
    await sleep(5_000);
    const [during] = await tasksOf(worker, 'backup-full-objects');
    const log = logTail(worker, 200);
    await expectHealthy(worker);

    disk.free();
    let restarted = false;
    await sleep(10_000);
    if ((await tasksOf(worker, 'backup-full-objects'))[0]?.state === 'FAILED') {
      restarted = true;
      expect((await worker.api('POST', '/connectors/backup-full-objects/tasks/0/restart')).status).toBe(204);
    }
    const objects = await until(
      'every record in the store after space was freed',
      async () => {
        const all = localBundles(disk.path, bucket);
        return recordCount(all) >= 1000 ? all : undefined;
      },
      120_000,
      1_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${logTail(worker)}`);
    });
    const source = await readPartitions([0, 1].map((partition) => ({ topic, partition, count: 500 })));
    const report = proveExactlyOnce(topic, 2, objects, source, recordDifferences);
    expect((await worker.api('DELETE', '/connectors/backup-full-objects')).status).toBe(204);
    checked += source.length;
    tally(report.lost, report.duplicated);
    results.push(
      `object store full: ${seen.state}${restarted ? ' (task restart needed)' : ' (recovered by itself)'}, trace: ${(during?.trace ?? seen.trace).split('\n')[0]}`,
    );
    expect(report.problems).toEqual([]);
    expect(report.lost + report.duplicated + report.mismatched).toBe(0);
    expect(log).toMatch(/ENOSPC|no space left/i);
    // The error the task reports is a catalogued one: STORE_IO, or a retriable store error while it waits.
    if (seen.state === 'FAILED') expect(seen.trace, 'a full disk fails the task with an uncatalogued error').toMatch(/\[(STORE_IO|RETRIABLE)\]/);
    await expectHealthy(worker);
  });

  it('the checkpoint store runs out of disk during a backup and a restore: STORE_IO, nothing lost, done once space is freed', async () => {
    expect(cleanBackup, 'needs the backup of the unknown-topic case').toBeDefined();
    const disk = new SmallDisk(tmpDir('faults-full-checkpoints'), 2);
    disks.push(disk);
    const w = new WorkerProcess(tmpDir('faults-full-checkpoints-worker'), await freePort(), {
      'bootstrap.servers': bootstrap(),
      'offset.flush.interval.ms': 300,
      'data.dir': disk.path,
    });
    extraWorkers.push(w);
    expect(await startWorker(w, [])).toBe('started');
    const topic = uniqueName('ffullcp');
    const objectsRoot = tmpDir('faults-full-checkpoints-objects');
    const bucket = 'coldstore-cp-events';
    await createTopic(topic, 2);
    const produced = [0, 0];
    const produce = async (count: number) => {
      await Promise.all([0, 1].map((p) => produceLinesAsync(topic, p, KEYS_AND_VALUES(p, produced[p]!, count))));
      produced[0]! += count;
      produced[1]! += count;
    };
    await produce(200);
    await create(
      'backup-cp',
      {
        'connector.class': 'BackupSink',
        topics: topic,
        'storage.type': 'local',
        'local.root': objectsRoot,
        'backup.label': 'cp',
        'bundle.max.records': '50',
        'bundle.max.age.ms': '300',
      },
      w,
    );
    const target = `${cleanBackup!.topic}-cp`;
    await create(
      'restore-cp',
      {
        'connector.class': 'RestoreSource',
        topics: cleanBackup!.topic,
        'topic.rename': `${cleanBackup!.topic}:${target}`,
        'transaction.boundary': 'poll',
        'poll.max.records': '5',
        'fetch.max.in.flight': '1',
        'backup.label': cleanBackup!.label,
        ...s3Settings(),
      },
      w,
    );
    await until(
      'both under way',
      async () => ((await restoredCount(w, 'restore-cp')) > 0 && localBundles(objectsRoot, bucket).length > 0 ? true : undefined),
      60_000,
      50,
    );

    disk.fill();
    const restoredAtFull = await restoredCount(w, 'restore-cp');
    await produce(300);
    const outcomes = await until(
      'both report the full disk',
      async () => {
        const out: Record<string, string> = {};
        for (const name of ['backup-cp', 'restore-cp']) {
          const tasks = await tasksOf(w, name);
          const failed = tasks.find((t) => t.state === 'FAILED');
          const retriable = await metricTotal(w, 'coldstore_task_errors_total', { connector: name, kind: 'retriable' });
          if (failed) out[name] = `FAILED ${failed.trace!.split('\n')[0]}`;
          else if (retriable > 0) out[name] = `RUNNING, ${retriable} retriable errors`;
          else if (tasks.every((t) => t.state === 'FINISHED')) out[name] = 'FINISHED before it needed the disk';
        }
        return Object.keys(out).length === 2 ? out : undefined;
      },
      90_000,
    );
    await expectHealthy(w);

    disk.free();
    await sleep(5_000);
    const restartedTasks: string[] = [];
    for (const name of ['backup-cp', 'restore-cp']) {
      for (const t of await tasksOf(w, name)) {
        if (t.state !== 'FAILED') continue;
        restartedTasks.push(`${name}/${t.id}`);
        expect((await w.api('POST', `/connectors/${name}/tasks/${t.id}/restart`)).status).toBe(204);
      }
    }
    await produce(100);
    await waitFinished(w, 'restore-cp', 120_000);
    const objects = await until(
      'every backed-up record in the store',
      async () => {
        const all = localBundles(objectsRoot, bucket);
        return recordCount(all) >= produced[0]! * 2 ? all : undefined;
      },
      120_000,
      1_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${logTail(w)}`);
    });
    await expectHealthy(w);
    expect(await w.kill('SIGTERM')).toBe(0);

    const source = await readPartitions([0, 1].map((partition) => ({ topic, partition, count: produced[partition]! })));
    const report = proveExactlyOnce(topic, 2, objects, source, recordDifferences);
    const restored = await readPartitions([0, 1].map((partition) => ({ topic: target, partition })));
    const restoredValues = [0, 1].map((p) => restored.filter((r) => r.partition === p).map((r) => r.value!.toString()));
    checked += source.length + restored.length;
    tally(
      report.lost + restoredValues.reduce((n, values) => n + 300 - new Set(values).size, 0),
      report.duplicated + restoredValues.reduce((n, values) => n + values.length - new Set(values).size, 0),
    );
    results.push(
      `checkpoint store full: backup ${outcomes['backup-cp']}; restore (at ${restoredAtFull}/600) ${outcomes['restore-cp']}; restarted ${restartedTasks.join(',') || 'none'}`,
    );
    expect(report.problems).toEqual([]);
    expect(report.lost + report.duplicated + report.mismatched).toBe(0);
    for (let p = 0; p < 2; p++) expect(restoredValues[p], `restored partition ${p}`).toEqual(Array.from({ length: 300 }, (_, i) => `v-${p}-${i}`));
    for (const outcome of Object.values(outcomes)) {
      if (outcome.startsWith('FAILED')) expect(outcome).toMatch(/STORE_IO/);
    }
  });
});
