import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../app/app.js';
import { readPartitions, type BrokerRecord } from '../helpers/broker-records.js';
import { checkCoverage, checkMetadata, readBundle, type BackedUpRecord } from '../helpers/bundle-reader.js';
import { createKindTopics, kindTopicNames } from '../helpers/record-kinds.js';
import { fetchAll, recordCount, s3Client, s3Settings, type FetchedObject } from '../helpers/s3.js';
import { createTestApp } from '../helpers/test-app.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

interface Backup {
  objects: FetchedObject[];
}

function readLocal(root: string, bucket: string): FetchedObject[] {
  const base = join(root, bucket);
  const out: FetchedObject[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).filter((n) => n !== '~coldstore')) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else {
        const key = relative(base, path);
        out.push({ key, body: readFileSync(path), metadata: JSON.parse(readFileSync(join(root, '.coldstore-meta', bucket, `${key}.json`), 'utf8')) });
      }
    }
  };
  walk(base);
  return out;
}

function asComparable(r: BackedUpRecord | BrokerRecord) {
  return {
    at: `${r.topic}/${r.partition}/${r.offset}`,
    timestamp: String(r.timestamp),
    timestampType: r.timestampType,
    key: r.key === null ? null : r.key.toString('hex'),
    value: r.value === null ? null : r.value.toString('hex'),
    headers: r.headers.map((h) => [h.key, h.value === null ? null : h.value.toString('hex')]),
  };
}

describe.each(['s3', 'local'] as const)('BackupSink round trip (%s storage)', (storage) => {
  let app: App;
  const label = uniqueName('rt')
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '');
  const root = tmpDir('objects');
  const topics = kindTopicNames();
  let backup: Backup;
  let expected: BrokerRecord[];

  beforeAll(async () => {
    await createKindTopics(topics);

    const partitions = [
      { topic: topics.kinds, partition: 0 },
      { topic: topics.kinds, partition: 1 },
      { topic: topics.appendTime, partition: 0 },
      { topic: topics.compacted, partition: 0 },
      { topic: topics.txn, partition: 0 },
    ];
    const counts = await Promise.all(partitions.map(async (p) => ({ ...p, count: (await readPartitions([{ ...p, count: 100_000 }]).catch(() => [])).length })));
    expected = await readPartitions(counts);

    ({ app } = await createTestApp({ 'offset.flush.interval.ms': 200 }));
    const storageSettings = storage === 's3' ? s3Settings() : { 'storage.type': 'local', 'local.root': root };
    await app.herder.putConfig(
      uniqueName('backup'),
      {
        'connector.class': 'BackupSink',
        topics: Object.values(topics).join(','),
        'backup.label': label,
        'bundle.max.records': '7',
        'bundle.max.age.ms': '500',
        'gzip.level': '1',
        ...storageSettings,
      },
      true,
    );
    const bucket = `coldstore-${label}-events`;
    backup = await waitFor(
      'every record backed up',
      async () => {
        const objects =
          storage === 's3'
            ? await fetchAll(s3Client(), bucket).catch(() => [])
            : (() => {
                try {
                  return readLocal(root, bucket);
                } catch {
                  return [];
                }
              })();
        const count = recordCount(objects);
        return count >= expected.length ? { objects } : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
  }, 180_000);

  afterAll(async () => {
    await app?.stop();
  });

  it('writes bundles that an independent reader decodes, with metadata that matches them', () => {
    // Bundles close at 7 records (or by age), so each partition needs at least ceil(records / 7) of them.
    const perPartition = new Map<string, number>();
    for (const r of expected) perPartition.set(`${r.topic}/${r.partition}`, (perPartition.get(`${r.topic}/${r.partition}`) ?? 0) + 1);
    for (const [tp, count] of perPartition) {
      expect(backup.objects.filter((o) => o.key.startsWith(`${tp}/`)).length, tp).toBeGreaterThanOrEqual(Math.ceil(count / 7));
    }
    for (const object of backup.objects) {
      const { records } = readBundle(object.key, object.body);
      checkMetadata(object.key, object.body, object.metadata, records);
      expect(records.length).toBeLessThanOrEqual(7);
    }
  });

  it('covers every partition contiguously and holds each broker record exactly once, byte for byte', () => {
    checkCoverage(backup.objects.map((o) => o.key));
    const backedUp = backup.objects.flatMap((o) => readBundle(o.key, o.body).records);
    const ours = backedUp.map(asComparable).sort((x, y) => (x.at < y.at ? -1 : 1));
    const theirs = expected.map(asComparable).sort((x, y) => (x.at < y.at ? -1 : 1));
    expect(ours).toEqual(theirs);
  });

  it('keeps LOG_APPEND_TIME, and the offset gaps of compaction and transactions inside bundle ranges', () => {
    const records = backup.objects.flatMap((o) => readBundle(o.key, o.body).records);
    const lat = records.filter((r) => r.topic === topics.appendTime);
    expect(lat.every((r) => r.timestampType === 'LOG_APPEND_TIME' && r.timestamp !== 5n)).toBe(true);
    const txnOffsets = records.filter((r) => r.topic === topics.txn).map((r) => Number(r.offset));
    expect(txnOffsets).toEqual([0, 1, 2, 7]); // 3 = commit marker, 4-5 aborted, 6 = abort marker
    expect(records.filter((r) => r.topic === topics.txn).map((r) => r.value?.toString())).toEqual(['t1', 't2', 't3', 't4']);
    const compacted = records.filter((r) => r.topic === topics.compacted).map((r) => Number(r.offset));
    expect(compacted.some((o, i) => i > 0 && o !== compacted[i - 1]! + 1)).toBe(true);
    // The holes lie inside bundle ranges: coverage stays contiguous (checkCoverage throws on a gap).
    const ranges = checkCoverage(backup.objects.map((o) => o.key)).get(`${topics.compacted}/0`)!;
    expect(ranges.length).toBeGreaterThan(1);
  });
});
