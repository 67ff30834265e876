import { afterAll, describe, expect, it } from 'vitest';
import type { App } from '../../app/app.js';
import { readPartitions } from '../helpers/broker-records.js';
import { checkCoverage, readBundle } from '../helpers/bundle-reader.js';
import { createTopic, produceLinesAsync } from '../helpers/kafka.js';
import { fetchAll, recordCount, s3Client, s3Settings } from '../helpers/s3.js';
import { createTestApp } from '../helpers/test-app.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { freePort } from '../helpers/worker-process.js';
import { PrivateS3 } from '../stack/stack.js';

const PARTITIONS = 2;
const PER_PARTITION = 1500;

describe('BackupSink rides out an S3 outage', () => {
  let app: App | undefined;
  let s3: PrivateS3 | undefined;
  afterAll(async () => {
    await app?.stop();
    await s3?.stop();
  });

  it('backs off while the S3 server is down, stays RUNNING, and completes with every offset exactly once', async () => {
    s3 = new PrivateS3(tmpDir('private-s3'), await freePort());
    await s3.start();
    const client = s3Client(s3.endpoint);
    const topic = uniqueName('outage');
    const label = uniqueName('outage').toLowerCase();
    const bucket = `coldstore-${label}-events`;
    const name = uniqueName('backup');
    await createTopic(topic, PARTITIONS);
    ({ app } = await createTestApp({ 'offset.flush.interval.ms': 200 }));
    await app.herder.putConfig(
      name,
      {
        'connector.class': 'BackupSink',
        topics: topic,
        'backup.label': label,
        'bundle.max.records': '100',
        'bundle.max.age.ms': '300',
        ...s3Settings(),
        's3.endpoint': s3.endpoint,
      },
      true,
    );
    // Half before the outage and half during it, so bundles are waiting to be stored
    // while the server is down however long the first half took to arrive.
    const produce = async (from: number, to: number): Promise<void> => {
      for (; from < to; from += 50) {
        await Promise.all(
          Array.from({ length: PARTITIONS }, (_, p) =>
            produceLinesAsync(
              topic,
              p,
              Array.from({ length: 50 }, (_, j) => `k:${p}-${from + j}`),
            ),
          ),
        );
        await new Promise((r) => setTimeout(r, 40));
      }
    };
    await produce(0, PER_PARTITION / 2);

    await waitFor('some bundles before the outage', async () => (await fetchAll(client, bucket).catch(() => [])).length >= 3, { intervalMs: 300 });
    await s3.stop();
    const outageEnds = Date.now() + 8_000;
    await produce(PER_PARTITION / 2, PER_PARTITION);
    await new Promise((r) => setTimeout(r, Math.max(0, outageEnds - Date.now())));
    const during = await app.server.inject({ method: 'GET', url: '/metrics' });
    expect(app.herder.status(name).tasks[0]?.state).toBe('RUNNING');
    expect(during.body).toMatch(/coldstore_backup_errors_total\{[^}]*kind="transient"[^}]*\} [1-9]/);
    await s3.start();

    const expected = await readPartitions(Array.from({ length: PARTITIONS }, (_, p) => ({ topic, partition: p, count: PER_PARTITION })));
    const objects = await waitFor(
      'every record in S3 after the outage',
      async () => {
        const all = await fetchAll(client, bucket);
        return recordCount(all) >= expected.length ? all : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1000 },
    );
    checkCoverage(objects.map((o) => o.key));
    const at = (r: { partition: number; offset: bigint }) => `${r.partition}/${r.offset}`;
    expect(
      objects
        .flatMap((o) => readBundle(o.key, o.body).records)
        .map(at)
        .sort(),
    ).toEqual(expected.map(at).sort());
    expect(app.herder.status(name).tasks[0]?.state).toBe('RUNNING');
  }, 240_000);
});
