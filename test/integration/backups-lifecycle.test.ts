import { afterEach, describe, expect, it } from 'vitest';
import { KafkaAdmin } from '../../runtime/kafka/admin.js';
import { FileCheckpointStore } from '../../runtime/storage/file-checkpoint-store.js';
import { bootstrap, createTopic, produceLines } from '../helpers/kafka.js';
import { s3Settings } from '../helpers/s3.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

/** Backups by id across worker restarts, fresh workers, config changes and several BackupSinks (real broker, S3Proxy). */
describe('backups by id: lifecycle', () => {
  const running: TestApp[] = [];
  afterEach(async () => {
    for (const w of running.splice(0)) await w.app.stop().catch(() => undefined);
  });

  async function worker(dataDir = tmpDir('catalogue')): Promise<TestApp> {
    const w = await createTestApp({ 'offset.flush.interval.ms': 200 }, { dataDir });
    running.push(w);
    return w;
  }

  function backupConfig(storage: Record<string, string>, topics: string, extra: Record<string, string> = {}) {
    return { 'connector.class': 'BackupSink', topics, 'bundle.max.age.ms': '600000', 'gzip.level': '1', ...storage, ...extra };
  }

  async function waitStatus(w: TestApp, id: number, status: string) {
    return waitFor(`backup ${id} ${status}`, async () => {
      const reply = await w.call('GET', `/backups/${id}`);
      return reply.body?.status === status ? reply.body : undefined;
    });
  }

  async function waitRunning(w: TestApp, name: string) {
    await waitFor(`${name} RUNNING`, () => {
      const s = w.app.herder.status(name);
      return s.tasks.length > 0 && s.tasks.every((t) => t.state === 'RUNNING');
    });
  }

  it('a backup in progress when the worker stops completes after it restarts', async () => {
    const storage = { ...s3Settings(), 'backup.label': uniqueName('life').toLowerCase() };
    const topic = uniqueName('life');
    await createTopic(topic, 2);
    produceLines(
      topic,
      0,
      Array.from({ length: 30 }, (_, i) => `a${i}`),
    );
    const dataDir = tmpDir('catalogue');
    const first = await worker(dataDir);
    await first.app.herder.putConfig('backup', backupConfig(storage, topic), true);
    await waitRunning(first, 'backup');
    expect((await first.call('POST', '/backups/1')).status).toBe(202);
    await first.app.stop();
    running.splice(0);
    const stored = (await new FileCheckpointStore(dataDir).read('backup-catalogue'))['1'] as { status: string };
    expect(stored.status).toBe('IN_PROGRESS');
    const second = await worker(dataDir);
    const done = await waitStatus(second, 1, 'COMPLETED');
    expect(done.partitions.map((p: { endOffset: number }) => p.endOffset).sort()).toEqual([0, 30]);
  }, 120_000);

  it('a fresh worker on the same bucket refuses ids the bucket has seen, deleted ones included', async () => {
    const storage = { ...s3Settings(), 'backup.label': uniqueName('ids').toLowerCase() };
    const topic = uniqueName('ids');
    await createTopic(topic, 1);
    produceLines(topic, 0, ['x', 'y']);
    const first = await worker();
    await first.app.herder.putConfig('backup', backupConfig(storage, topic), true);
    await waitRunning(first, 'backup');
    for (const id of [5, 6]) {
      expect((await first.call('POST', `/backups/${id}`)).status).toBe(202);
      await waitStatus(first, id, 'COMPLETED');
    }
    expect((await first.call('DELETE', '/backups/6')).status).toBe(200);
    await first.app.stop();
    running.splice(0);
    const fresh = await worker();
    await fresh.app.herder.putConfig('backup', backupConfig(storage, topic), true);
    await waitRunning(fresh, 'backup');
    const refused = await fresh.call('POST', '/backups/6');
    expect(refused.status).toBe(409);
    expect(refused.body.message).toMatch(/not greater than 6/);
    expect((await fresh.call('POST', '/backups/7')).status).toBe(202);
    await waitStatus(fresh, 7, 'COMPLETED');
  }, 120_000);

  it('fails a backup whose connector config changes before it completes, and leaves no manifest', async () => {
    const storage = { ...s3Settings(), 'backup.label': uniqueName('chg').toLowerCase() };
    const topic = uniqueName('chg');
    await createTopic(topic, 1);
    produceLines(topic, 0, ['x']);
    const w = await worker();
    await w.app.herder.putConfig('backup', backupConfig(storage, topic), true);
    await waitRunning(w, 'backup');
    expect((await w.call('POST', '/backups/1')).status).toBe(202);
    await w.app.herder.putConfig('backup', backupConfig({ ...storage, 'backup.label': `${storage['backup.label']}-b` }, topic), false);
    const failed = await waitStatus(w, 1, 'FAILED');
    expect(failed.failureReason).toMatch(/config of connector backup changed/);
    expect(failed.manifests).toEqual([]);
    const notRunning = await w.call('POST', '/backups/2');
    expect([202, 409]).toContain(notRunning.status);
  }, 120_000);

  it('restores a backup by id taken over two BackupSinks sharing a bucket, with the group offsets of each', async () => {
    const storage = { ...s3Settings(), 'backup.label': uniqueName('two').toLowerCase() };
    const [orders, payments] = [uniqueName('orders'), uniqueName('payments')];
    const group = uniqueName('billing');
    for (const t of [orders, payments]) {
      await createTopic(t, 1);
      produceLines(
        t,
        0,
        Array.from({ length: 20 }, (_, i) => `${t}-${i}`),
      );
    }
    const admin = new KafkaAdmin({ bootstrapServers: bootstrap(), extra: {} }, 'lifecycle-test-admin');
    try {
      await admin.commitGroupOffsets(group, [
        { topic: orders, partition: 0, offset: 7n },
        { topic: payments, partition: 0, offset: 12n },
      ]);
      const w = await worker();
      await w.app.herder.putConfig('backup-orders', backupConfig(storage, orders, { groups: group }), true);
      await w.app.herder.putConfig('backup-payments', backupConfig(storage, payments, { groups: group }), true);
      await waitRunning(w, 'backup-orders');
      await waitRunning(w, 'backup-payments');
      expect((await w.call('POST', '/backups/1')).status).toBe(202);
      const done = await waitStatus(w, 1, 'COMPLETED');
      expect(done.manifests.map((m: { connector: string }) => m.connector).sort()).toEqual(['backup-orders', 'backup-payments']);
      const target = `${payments}-restored`;
      await w.app.herder.putConfig(
        'restore',
        { 'connector.class': 'RestoreSource', ...storage, topics: payments, 'topic.rename': `${payments}:${target}`, 'restore.backup.id': '1', groups: group },
        true,
      );
      await waitFor('restore FINISHED', () => w.app.herder.status('restore').tasks.every((t) => t.state === 'FINISHED') || undefined);
      const committed = await admin.groupOffsets(group);
      expect(committed.find((o) => o.topic === target)).toMatchObject({ partition: 0, offset: 12n });
    } finally {
      admin.disconnect();
    }
  }, 120_000);
});
