/**
 * GET /ready (docs/operations.md, Probes): 200 only when the worker is started, Kafka
 * answers, the object store of each connector it runs answers, and none of its tasks is
 * FAILED; else 503 naming each failing check. Real servers: a private S3Proxy stopped and
 * started again, a tiny S3 server answering 501 to conditional PUTs (the task FAILS with
 * STORE_UNSUPPORTED instead of retrying), a Kafka port nobody listens on.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { clusterWorkerConfig } from '../helpers/cluster-config.js';
import { createTopic, produceLinesAsync } from '../helpers/kafka.js';
import { PartialS3 } from '../helpers/partial-s3.js';
import { s3Settings } from '../helpers/s3.js';
import { createTestApp, readyUntil, type TestApp } from '../helpers/test-app.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { freePort, WorkerProcess } from '../helpers/worker-process.js';
import { PrivateS3 } from '../stack/stack.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function app(extra: Record<string, unknown> = {}, options: { start?: boolean } = {}): Promise<TestApp> {
  const t = await createTestApp(extra, options);
  cleanups.push(() => t.app.stop());
  return t;
}

function backupConfig(topic: string, endpoint: string): Record<string, string> {
  return {
    'connector.class': 'BackupSink',
    topics: topic,
    'backup.label': uniqueName('ready').toLowerCase(),
    'bundle.max.records': '10',
    'bundle.max.age.ms': '300',
    ...s3Settings(),
    's3.endpoint': endpoint,
  };
}

describe('GET /ready', () => {
  it('503 "starting" before the worker started; 200 with every check ok once it runs', async () => {
    const t = await app({}, { start: false });
    const before = await t.call('GET', '/ready');
    expect(before.status).toBe(503);
    expect(before.body.status).toBe('not_ready');
    expect(before.body.checks.worker).toEqual({ ok: false, message: 'the worker is starting' });
    await t.app.start();
    const after = await readyUntil(t, '200 once started', (r) => r.status === 200);
    expect(after.body).toEqual({
      status: 'ready',
      checks: { worker: { ok: true }, kafka: { ok: true }, stores: { ok: true, connectors: {} }, tasks: { ok: true, failed: [] } },
    });
  });

  it("the S3 server of a running BackupSink goes down: 503 naming the connector's store while the task retries; 200 once it is back", async () => {
    const s3 = new PrivateS3(tmpDir('ready-s3'), await freePort());
    await s3.start();
    cleanups.push(() => s3.stop());
    const topic = uniqueName('ready');
    await createTopic(topic, 1);
    const t = await app();
    const name = uniqueName('backup');
    await t.app.herder.putConfig(name, backupConfig(topic, s3.endpoint), true);
    await produceLinesAsync(topic, 0, ['k:1', 'k:2']);
    const ready = await readyUntil(t, 'ready with the store up', (r) => r.status === 200);
    expect(ready.body.checks.stores).toEqual({ ok: true, connectors: { [name]: { ok: true } } });

    await s3.stop();
    const down = await readyUntil(t, '503 with the store down', (r) => r.status === 503);
    expect(down.body.status).toBe('not_ready');
    expect(down.body.checks.stores.ok).toBe(false);
    expect(down.body.checks.stores.connectors[name].ok).toBe(false);
    expect(down.body.checks.stores.connectors[name].message).toContain(s3.endpoint);
    // Only the store is named: Kafka and the tasks are fine (the task backs off, RUNNING).
    expect(down.body.checks.kafka).toEqual({ ok: true });
    expect(down.body.checks.tasks).toEqual({ ok: true, failed: [] });
    expect(t.app.herder.status(name).tasks[0]?.state).toBe('RUNNING');

    await s3.start();
    const back = await readyUntil(t, '200 once the store is back', (r) => r.status === 200);
    expect(back.body.checks.stores.connectors[name]).toEqual({ ok: true });
  }, 180_000);

  it('a task FAILED (its S3 server answers 501 to conditional PUTs, which coldstore needs): 503 naming the task; 200 once the connector is gone', async () => {
    const s3 = new PartialS3((r) => r.method === 'PUT' && r.conditional);
    const endpoint = await s3.start();
    cleanups.push(() => s3.stop());
    const topic = uniqueName('ready');
    await createTopic(topic, 1);
    const t = await app();
    const name = uniqueName('backup');
    await t.app.herder.putConfig(name, backupConfig(topic, endpoint), true);
    await produceLinesAsync(
      topic,
      0,
      Array.from({ length: 20 }, (_, i) => `k:${i}`),
    );

    const failed = await waitFor('the task FAILED', () => {
      const task = t.app.herder.status(name).tasks[0];
      return task?.state === 'FAILED' ? task : undefined;
    });
    expect(failed.trace).toMatch(/\[STORE_UNSUPPORTED\]/);
    expect(failed.trace).toMatch(/does not implement S3 conditional-PUT/);
    expect(failed.trace).toMatch(/Use a server that implements it/);

    const reply = await readyUntil(t, '503 naming the FAILED task', (r) => r.status === 503 && r.body.checks.tasks.failed.length > 0);
    expect(reply.body.checks.tasks).toEqual({ ok: false, message: `FAILED tasks on this worker: ${name}/0`, failed: [`${name}/0`] });
    // The store itself answers (only one operation is missing), and so does Kafka.
    expect(reply.body.checks.stores).toEqual({ ok: true, connectors: { [name]: { ok: true } } });
    expect(reply.body.checks.kafka).toEqual({ ok: true });

    await t.app.herder.delete(name);
    await readyUntil(t, '200 once the failed connector is deleted', (r) => r.status === 200);
  }, 120_000);

  it('Kafka unreachable: 503 naming kafka; GET / has no cluster id', async () => {
    const port = await freePort();
    const t = await app({ 'bootstrap.servers': `127.0.0.1:${port}` });
    const reply = await t.call('GET', '/ready');
    expect(reply.status).toBe(503);
    expect(reply.body.checks.kafka.ok).toBe(false);
    expect(reply.body.checks.kafka.message).toContain(`127.0.0.1:${port}`);
    expect(reply.body.checks.worker).toEqual({ ok: true });
    expect((await t.call('GET', '/')).body.kafka_cluster_id).toBeNull();
  }, 60_000);
});

describe('GET /ready in cluster mode', () => {
  it('counts only the FAILED tasks this worker runs: the worker running the failed task is 503 naming it, the other 200', async () => {
    const s3 = new PartialS3((r) => r.method === 'PUT' && r.conditional);
    const endpoint = await s3.start();
    cleanups.push(() => s3.stop());
    const group = uniqueName('ready').toLowerCase();
    const dir = tmpDir('ready-cluster');
    const workers: WorkerProcess[] = [];
    for (const id of ['w1', 'w2']) {
      mkdirSync(join(dir, id));
      const worker = new WorkerProcess(join(dir, id), await freePort(), clusterWorkerConfig(group, id));
      workers.push(worker);
      cleanups.push(async () => void (await worker.kill('SIGKILL')));
    }
    await Promise.all(workers.map((w) => w.start()));
    const topic = uniqueName('ready');
    await createTopic(topic, 2);
    const created = await workers[0]!.api('POST', '/connectors', { name: 'backup', config: { ...backupConfig(topic, endpoint), 'tasks.max': '2' } });
    expect(created.status).toBe(201);
    await waitFor('two RUNNING tasks, one on each worker', async () => {
      const tasks = (await workers[0]!.api('GET', '/connectors/backup/status')).body?.tasks as { state: string; worker_id: string }[] | undefined;
      return tasks?.length === 2 && tasks.every((t) => t.state === 'RUNNING') && new Set(tasks.map((t) => t.worker_id)).size === 2;
    });

    // Records on partition 0 only: the one task that owns it tries to store them and FAILS.
    await produceLinesAsync(
      topic,
      0,
      Array.from({ length: 20 }, (_, i) => `k:${i}`),
    );
    const failed = await waitFor('one task FAILED', async () => {
      const tasks = (await workers[0]!.api('GET', '/connectors/backup/status')).body.tasks as { id: number; state: string; worker_id: string }[];
      const failing = tasks.filter((t) => t.state === 'FAILED');
      return failing.length === 1 ? failing[0]! : undefined;
    });
    const failing = workers.find((w) => w.dir.endsWith(failed.worker_id))!;
    const other = workers.find((w) => w !== failing)!;

    const notReady = await waitFor('503 on the worker running the FAILED task', async () => {
      const reply = await failing.api('GET', '/ready');
      if (reply.status !== 503) throw new Error(`${reply.status} ${JSON.stringify(reply.body)}`);
      return reply;
    });
    expect(notReady.body.checks.tasks).toEqual({ ok: false, message: `FAILED tasks on this worker: backup/${failed.id}`, failed: [`backup/${failed.id}`] });
    const ready = await other.api('GET', '/ready');
    expect(ready.status, JSON.stringify(ready.body)).toBe(200);
    expect(ready.body.checks.tasks).toEqual({ ok: true, failed: [] });
  }, 180_000);
});
