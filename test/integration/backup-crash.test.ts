import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readPartitions } from '../helpers/broker-records.js';
import { checkCoverage, readBundle } from '../helpers/bundle-reader.js';
import { bootstrap, createTopic, produceRecords, produceSteadily } from '../helpers/kafka.js';
import { fetchAll, recordCount, s3Client, s3Settings } from '../helpers/s3.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { freePort, WorkerProcess } from '../helpers/worker-process.js';

const PARTITIONS = 2;
const PER_PARTITION = 2000;
const LARGE = 12;

describe('BackupSink keeps every offset exactly once in S3 across crashes, with time-based closing', () => {
  const dir = tmpDir('backup-crash');
  let worker: WorkerProcess | undefined;
  afterAll(async () => {
    await worker?.kill('SIGKILL');
  });

  it('SIGKILL after an upload before its commit, in the middle of a multipart upload, and at random', async () => {
    const topic = uniqueName('bcrash');
    const label = uniqueName('crash').toLowerCase();
    const bucket = `coldstore-${label}-events`;
    await createTopic(topic, PARTITIONS);
    worker = new WorkerProcess(dir, await freePort(), { 'bootstrap.servers': bootstrap(), 'offset.flush.interval.ms': 200 });
    const connectorFile = join(dir, 'backup.json');
    writeFileSync(
      connectorFile,
      JSON.stringify({
        name: 'backup',
        config: {
          'connector.class': 'BackupSink',
          topics: topic,
          'backup.label': label,
          'bundle.max.records': '150',
          'bundle.max.age.ms': '400',
          'gzip.level': '1',
          's3.multipart.threshold.bytes': String(5 * 1024 * 1024),
          's3.part.size.bytes': String(5 * 1024 * 1024),
          ...s3Settings(),
        },
      }),
    );
    const objectCount = async () => (await fetchAll(s3Client(), bucket).catch(() => [])).length;

    // Run 1 dies right after its 3rd upload, before the offsets of that bundle are committed.
    await worker.startOrDie([connectorFile], { COLDSTORE_FAILPOINTS: 'backup.after-upload@3' });
    const producing = produceSteadily(topic, PARTITIONS, 0, PER_PARTITION / 2);
    expect(await worker.exited()).toBe('SIGKILL');

    // Run 2 dies in the middle of a multipart upload of a bundle of large incompressible records.
    await worker.startOrDie([connectorFile], { COLDSTORE_FAILPOINTS: 'backup.mid-multipart@1' });
    await produceRecords(Array.from({ length: LARGE }, (_, i) => ({ topic, partition: 0, key: Buffer.from(`large-${i}`), value: randomBytes(900 * 1024) })));
    expect(await worker.exited()).toBe('SIGKILL');

    // Run 3 is killed at a random moment once it made progress on records produced meanwhile.
    await producing;
    await worker.start([connectorFile]);
    const before = await objectCount();
    const producingMore = produceSteadily(topic, PARTITIONS, PER_PARTITION / 2, PER_PARTITION);
    await waitFor('progress in run 3', async () => (await objectCount()) > before + 2, { intervalMs: 300 });
    await new Promise((r) => setTimeout(r, Math.random() * 500));
    await worker.kill('SIGKILL');

    // Run 4 finishes the job.
    await worker.start([connectorFile]);
    await producingMore;
    const expected = await readPartitions(
      Array.from({ length: PARTITIONS }, (_, p) => ({ topic, partition: p, count: PER_PARTITION + (p === 0 ? LARGE : 0) })),
    );
    expect(expected).toHaveLength(PARTITIONS * PER_PARTITION + LARGE);
    const objects = await waitFor(
      'every record in S3',
      async () => {
        const all = await fetchAll(s3Client(), bucket);
        const records = recordCount(all);
        return records >= expected.length ? all : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 1000 },
    );
    expect(await worker.kill('SIGTERM')).toBe(0);

    // Exactly once: bundles tile each partition with no overlap and no gap, and hold each broker record once.
    const ranges = checkCoverage(objects.map((o) => o.key));
    for (let p = 0; p < PARTITIONS; p++) expect(ranges.get(`${topic}/${p}`)![0]!.start).toBe(0n);
    const backedUp = objects.flatMap((o) => readBundle(o.key, o.body).records);
    const at = (r: { partition: number; offset: bigint }) => `${r.partition}/${r.offset}`;
    expect(backedUp.map(at).sort()).toEqual(expected.map(at).sort());
    const byOffset = new Map(expected.map((r) => [at(r), r]));
    for (const r of backedUp) {
      const original = byOffset.get(at(r))!;
      expect(r.key?.equals(original.key!)).toBe(true);
      expect(r.value?.equals(original.value!)).toBe(true);
    }
    // The multipart bundle made it: one object holds the large records.
    expect(objects.some((o) => o.body.length > 5 * 1024 * 1024)).toBe(true);
    console.info(`backup-crash: ${objects.length} bundles, ${backedUp.length} records, 3 crashes`);
  }, 240_000);
});
