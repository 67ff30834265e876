import { afterAll, describe, expect, it } from 'vitest';
import type { App } from '../../app/app.js';
import { readPartitions } from '../helpers/broker-records.js';
import { createTopic, produceLines } from '../helpers/kafka.js';
import { s3Settings } from '../helpers/s3.js';
import { createTestApp } from '../helpers/test-app.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { freePort } from '../helpers/worker-process.js';
import { PrivateS3 } from '../stack/stack.js';

const PARTITIONS = 2;
const PER_PARTITION = 4000;

describe('RestoreSource rides out an S3 outage', () => {
  let app: App | undefined;
  let s3: PrivateS3 | undefined;
  afterAll(async () => {
    await app?.stop();
    await s3?.stop();
  });

  it('keeps RUNNING while the store is down and completes exactly once when it is back (transactional)', async () => {
    s3 = new PrivateS3(tmpDir('private-s3-restore'), await freePort());
    await s3.start();
    const topic = uniqueName('routage');
    const target = `${topic}-restored`;
    const label = uniqueName('routage').toLowerCase();
    await createTopic(topic, PARTITIONS);
    for (let p = 0; p < PARTITIONS; p++)
      produceLines(
        topic,
        p,
        Array.from({ length: PER_PARTITION }, (_, i) => `k${i}:v-${p}-${i}`),
      );
    ({ app } = await createTestApp({ 'offset.flush.interval.ms': 200 }));
    const storage = { ...s3Settings(), 's3.endpoint': s3.endpoint, 'backup.label': label };
    const backup = uniqueName('backup');
    await app.herder.putConfig(
      backup,
      { 'connector.class': 'BackupSink', topics: topic, 'bundle.max.records': '20', 'bundle.max.age.ms': '300', ...storage },
      true,
    );
    await waitFor(
      'backup complete',
      () => app!.herder.committedOffsets().filter((o) => o.topic === topic && o.offset === BigInt(PER_PARTITION)).length === PARTITIONS,
      {
        timeoutMs: 90_000,
        intervalMs: 300,
      },
    );
    await app.herder.delete(backup);

    const name = uniqueName('restore');
    await app.herder.putConfig(
      name,
      {
        'connector.class': 'RestoreSource',
        topics: topic,
        'topic.rename': `${topic}:${target}`,
        'transaction.boundary': 'poll',
        'fetch.max.in.flight': '1',
        ...storage,
      },
      true,
    );
    const progress = () => (app!.herder.status(name).tasks[0]?.progress as { records?: number } | undefined)?.records ?? 0;
    await waitFor('restore under way', () => progress() > 0, { intervalMs: 50 });
    await s3.stop();
    const atOutage = progress();
    await new Promise((r) => setTimeout(r, 6_000));
    expect(app.herder.status(name).tasks[0]?.state).toBe('RUNNING');
    expect(progress()).toBeLessThan(PARTITIONS * PER_PARTITION);
    const metrics = (await app.server.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/coldstore_task_errors_total\{[^}]*kind="retriable"[^}]*\} [1-9]/);
    await s3.start();

    const task = await waitFor(
      'restore FINISHED after the outage',
      () => {
        const t = app!.herder.status(name).tasks[0];
        if (t?.state === 'FAILED') throw new Error(t.trace);
        return t?.state === 'FINISHED' ? t : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 300 },
    );
    expect((task.progress as { records: number }).records).toBe(PARTITIONS * PER_PARTITION);
    const restored = await readPartitions(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: target, partition })));
    for (let p = 0; p < PARTITIONS; p++) {
      expect(restored.filter((r) => r.partition === p).map((r) => r.value!.toString())).toEqual(Array.from({ length: PER_PARTITION }, (_, i) => `v-${p}-${i}`));
    }
    console.info(`restore-s3-outage: ${atOutage} of ${PARTITIONS * PER_PARTITION} records restored when the store went down for 6 s`);
  }, 300_000);
});
