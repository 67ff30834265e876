/**
 * Kafka Connect REST parity (docs/rest-api.md): initial_state (KIP-980) and PATCH of a
 * connector config (KIP-477), against a real standalone worker talking to the local
 * Kafka and S3. Active topics (KIP-558): rest-active-topics.test.ts; plugin config
 * definitions (KIP-769): rest-plugin-config.test.ts.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaAdmin } from '../../runtime/kafka/admin.js';
import { bootstrap, consumeAll, createTopic, produceLines } from '../helpers/kafka.js';
import { recordCount, fetchAll, s3Client, s3Settings } from '../helpers/s3.js';
import { badFields, connectorStatus, connectorsFile, createTestApp, expectError, sinkLines, type TestApp } from '../helpers/test-app.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { freePort, WorkerProcess } from '../helpers/worker-process.js';

let t: TestApp;
const files = tmpDir('parity-out');

beforeAll(async () => {
  t = await createTestApp({ 'worker.id': uniqueName('parity') }, { captureLogs: true });
});

afterAll(async () => {
  await t?.app.stop();
});

/** Log lines saying the connector's instance was started on this worker. */
function starts(app: TestApp, name: string): number {
  return app.logs.filter((l) => l.includes(`"connector":"${name}"`) && l.includes('"msg":"connector started"')).length;
}

/** Records the broker holds in the topic (0 when it does not exist). */
async function recordsIn(topic: string): Promise<number> {
  const admin = new KafkaAdmin({ bootstrapServers: bootstrap(), extra: {} }, 'parity-test-admin');
  try {
    const described = await admin.describeTopic(topic);
    if (!described) return 0;
    const ends = await admin.endOffsets(topic, described.partitions);
    return [...ends.values()].reduce((n, end) => n + Number(end), 0);
  } finally {
    admin.disconnect();
  }
}

function linesFile(count: number): string {
  const file = join(files, `${uniqueName('in')}.txt`);
  writeFileSync(file, Array.from({ length: count }, (_, i) => `line ${i}`).join('\n') + '\n');
  return file;
}

describe('initial_state (KIP-980)', () => {
  it('STOPPED creates the connector without starting its instance or any task; resume then runs it', async () => {
    const topic = uniqueName('init-stopped');
    await createTopic(topic, 1);
    const name = uniqueName('src');
    const config = { 'connector.class': 'FileStreamSource', file: linesFile(5), topic, 'finish.at.eof': 'true' };
    const created = await t.call('POST', '/connectors', { name, config, initial_state: 'STOPPED' });
    expect(created.status, created.text).toBe(201);
    expect(created.body.tasks).toEqual([]);
    expect(await connectorStatus(t, name)).toMatchObject({ connector: { state: 'STOPPED' }, tasks: [] });
    // The create is applied before the answer: a connector that was going to start has started by now.
    expect(starts(t, name)).toBe(0);
    expect(await recordsIn(topic)).toBe(0);

    expect((await t.call('PUT', `/connectors/${name}/resume`)).status).toBe(202);
    await waitFor('the five lines in the topic', async () => (await recordsIn(topic)) === 5);
    expect(starts(t, name)).toBe(1);
    expect((await t.call('DELETE', `/connectors/${name}`)).status).toBe(204);
  });

  it('PAUSED (any case) starts the tasks PAUSED: nothing is produced until resume', async () => {
    const topic = uniqueName('init-paused');
    await createTopic(topic, 1);
    const name = uniqueName('src');
    const config = { 'connector.class': 'FileStreamSource', file: linesFile(3), topic, 'tasks.max': '1' };
    const created = await t.call('POST', '/connectors', { name, config, initial_state: 'paused' });
    expect(created.status, created.text).toBe(201);
    expect(await connectorStatus(t, name)).toMatchObject({ connector: { state: 'PAUSED' }, tasks: [{ id: 0, state: 'PAUSED' }] });
    expect(await recordsIn(topic)).toBe(0);
    expect((await t.call('PUT', `/connectors/${name}/resume`)).status).toBe(202);
    await waitFor('the three lines in the topic', async () => (await recordsIn(topic)) === 3);
    expect((await t.call('DELETE', `/connectors/${name}`)).status).toBe(204);
  });

  it('an unknown initial_state is a 400 naming the field and the allowed values, and creates nothing', async () => {
    const name = uniqueName('bad');
    for (const value of ['STARTED', 7, '']) {
      const res = await t.call('POST', '/connectors', {
        name,
        config: { 'connector.class': 'FileStreamSink', topics: 'x', file: join(files, 'never') },
        initial_state: value,
      });
      expectError(res, 400, /initial_state must be one of RUNNING, PAUSED, STOPPED/);
    }
    expectError(await t.call('GET', `/connectors/${name}`), 404);
  });
});

describe('PATCH /connectors/{name}/config (KIP-477)', () => {
  it('merges over the stored config (secrets and removed keys included), restarts the tasks with it, and refuses a bad result whole', async () => {
    const topic = uniqueName('patch');
    await createTopic(topic, 1);
    const name = uniqueName('sink');
    const first = join(files, `${uniqueName('a')}.jsonl`);
    const second = join(files, `${uniqueName('b')}.jsonl`);
    // A secret-looking key is masked on reads: the patch must keep its stored value, not the mask.
    const config = { 'connector.class': 'FileStreamSink', topics: topic, file: first, 'consumer.override.sasl.password': 'pw-1' };
    expect((await t.call('POST', '/connectors', { name, config })).status).toBe(201);
    produceLines(topic, 0, ['k:1', 'k:2']);
    await waitFor('two lines in the first file', () => sinkLines(first).length === 2);

    const patched = await t.call('PATCH', `/connectors/${name}/config`, { file: second, 'consumer.override.sasl.password': null, 'tasks.max': 1 });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body).toMatchObject({ name, type: 'sink', tasks: [{ connector: name, task: 0 }] });
    expect(patched.body.config).toEqual({ 'connector.class': 'FileStreamSink', topics: topic, file: second, 'tasks.max': '1', name });
    const stored = JSON.parse(readFileSync(connectorsFile(t.dataDir), 'utf8'))[name];
    expect(stored.config).toEqual({ 'connector.class': 'FileStreamSink', topics: topic, file: second, 'tasks.max': '1', name });
    produceLines(topic, 0, ['k:3']);
    await waitFor('the new record in the second file', () => sinkLines(second).some((l) => l.offset === '2'));
    expect(sinkLines(first)).toHaveLength(2);
    // A patch that changes nothing restarts nothing.
    const startsBefore = starts(t, name);
    expect(startsBefore).toBe(2);
    expect((await t.call('PATCH', `/connectors/${name}/config`, { file: second })).status).toBe(200);
    expect(starts(t, name)).toBe(startsBefore);

    // A secret set earlier survives a patch of another key (the read shows it masked).
    expect((await t.call('PATCH', `/connectors/${name}/config`, { 'consumer.override.sasl.password': 'pw-2' })).status).toBe(200);
    expect((await t.call('PATCH', `/connectors/${name}/config`, { 'tasks.max': '2' })).body.config['consumer.override.sasl.password']).toBe('[hidden]');
    expect(JSON.parse(readFileSync(connectorsFile(t.dataDir), 'utf8'))[name].config['consumer.override.sasl.password']).toBe('pw-2');

    // Every bad field of the merged result is named; nothing of the patch is applied.
    const bad = await t.call('PATCH', `/connectors/${name}/config`, { topics: null, 'tasks.max': 'many' });
    expectError(bad, 400);
    expect(badFields(bad)).toEqual(['tasks.max', 'topics']);
    expect(badFields(await t.call('PATCH', `/connectors/${name}/config`, { 'connector.class': null }))).toEqual(['connector.class']);
    expectError(await t.call('PATCH', `/connectors/${name}/config`, { name: 'another' }), 400, /name/);
    expect((await t.call('GET', `/connectors/${name}/config`)).body).toMatchObject({ topics: topic, file: second, 'tasks.max': '2' });

    expectError(await t.call('PATCH', `/connectors/${uniqueName('absent')}/config`, { file: second }), 404);
    expectError(await t.call('PATCH', `/connectors/${name}/config`, '[1, 2]'), 400);
    expect((await t.call('DELETE', `/connectors/${name}`)).status).toBe(204);
  });
});

describe('a standalone worker process restarted with its data.dir', () => {
  const workers: WorkerProcess[] = [];
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill('SIGKILL')));
  });

  it('a restore created STOPPED comes back STOPPED after kill -9 and restores nothing until resumed; active topics survive too', async () => {
    const topic = uniqueName('pw');
    const target = `${topic}-restored`;
    const label = uniqueName('pw')
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '');
    await createTopic(topic, 1);
    produceLines(
      topic,
      0,
      Array.from({ length: 20 }, (_, i) => `k${i}:v${i}`),
    );
    const dir = join(tmpDir('parity-worker'), 'w');
    mkdirSync(dir, { recursive: true });
    const worker = new WorkerProcess(dir, await freePort(), { 'bootstrap.servers': bootstrap(), 'worker.id': 'parity-w', 'offset.flush.interval.ms': 200 });
    workers.push(worker);
    await worker.start();
    const storage = { ...s3Settings(), 'backup.label': label };
    const backup = await worker.api('POST', '/connectors', {
      name: 'backup',
      config: { 'connector.class': 'BackupSink', topics: topic, 'bundle.max.age.ms': '300', ...storage },
    });
    expect(backup.status).toBe(201);
    await waitFor('20 records in S3', async () => recordCount(await fetchAll(s3Client(), `coldstore-${label}-events`).catch(() => [])) === 20);
    await waitFor('the backed-up topic listed', async () => (await worker.api('GET', '/connectors/backup/topics')).body.backup.topics.length > 0);
    expect((await worker.api('PUT', '/connectors/backup/stop')).status).toBe(202);

    const restore = await worker.api('POST', '/connectors', {
      name: 'restore',
      config: { 'connector.class': 'RestoreSource', topics: topic, 'topic.rename': `${topic}:${target}`, ...storage },
      initial_state: 'STOPPED',
    });
    expect(restore.status).toBe(201);

    await worker.kill('SIGKILL');
    await worker.start();
    const restarted = await worker.api('GET', '/connectors/restore/status');
    expect(restarted.body).toMatchObject({ connector: { state: 'STOPPED' }, tasks: [] });
    expect(await recordsIn(target)).toBe(0);
    const log = () => readFileSync(worker.logPath, 'utf8').split('\n');
    expect(log().filter((l) => l.includes('"connector":"restore"') && l.includes('connector started'))).toEqual([]);
    expect((await worker.api('GET', '/connectors/backup/topics')).body).toEqual({ backup: { topics: [topic] } });
    expect((await worker.api('GET', '/connectors/restore/topics')).body).toEqual({ restore: { topics: [] } });

    expect((await worker.api('PUT', '/connectors/restore/resume')).status).toBe(202);
    await waitFor('the restore FINISHED', async () => {
      const s = (await worker.api('GET', '/connectors/restore/status')).body;
      return s.tasks.length > 0 && s.tasks.every((task: { state: string }) => task.state === 'FINISHED');
    });
    expect(consumeAll(target, 20)).toHaveLength(20);
    expect((await worker.api('GET', '/connectors/restore/topics')).body).toEqual({ restore: { topics: [target] } });
    await worker.terminate();
  }, 120_000);
});
