// PartitionReader in follow mode (connectors/restore-source/partition-reader.ts, gapWaitMs
// and relist) over a real LocalObjectStore holding real kafka-v1 bundles: new bundles are
// read after a relist, a bundle that lands before the one ahead of it is held until the
// gap fills (or its wait runs out), and objects under temporary names are passed over.
import { gzipSync } from 'node:zlib';
import { beforeEach, describe, expect, it } from 'vitest';
import type { SinkRecord } from '../../runtime/api/index.js';
import type { BadObjectError } from '../../connectors/restore-source/bad-object.js';
import { PartitionReader } from '../../connectors/restore-source/partition-reader.js';
import { encodeKafkaBundle } from '../../connectors/layouts/kafka-v1/bundle-codec.js';
import { kafkaBundleKey } from '../../connectors/layouts/kafka-v1/bundle-keys.js';
import { LocalObjectStore } from '../../connectors/common/object-store/local-object-store.js';
import { tmpDir } from '../helpers/tmp.js';

const location = { bucket: 'backup', prefix: '' };
const tp = { topic: 't', partition: 0 };

function record(offset: number): SinkRecord {
  return {
    ...tp,
    offset: BigInt(offset),
    timestamp: 1_700_000_000_000 + offset,
    timestampType: 'CREATE_TIME',
    key: null,
    value: Buffer.from(`v${offset}`),
    headers: [],
  };
}

describe('PartitionReader following a live backup', () => {
  let store: LocalObjectStore;
  let bad: BadObjectError[];

  async function land(start: number, end: number): Promise<void> {
    const key = kafkaBundleKey(tp.topic, tp.partition, BigInt(start), BigInt(end));
    const records = Array.from({ length: end - start + 1 }, (_, i) => record(start + i));
    const { container, metadata } = encodeKafkaBundle(key, BigInt(start), BigInt(end), records);
    await store.putIfAbsent(location.bucket, key, gzipSync(container), metadata);
  }

  function follower(gapWaitMs: number): PartitionReader {
    return new PartitionReader({ store, location, tp, fetchAhead: 2, gapWaitMs, onBadObject: (err) => void bad.push(err) });
  }

  /** Every bundle the reader has now, as first..last offsets, then relists as the follow task does when caught up. */
  async function readNow(reader: PartitionReader): Promise<string[]> {
    const read: string[] = [];
    for (let bundle = await reader.next(); bundle; bundle = await reader.next()) read.push(`${bundle.start}..${bundle.end}`);
    reader.relist();
    return read;
  }

  beforeEach(async () => {
    store = new LocalObjectStore(tmpDir('follow-reader'));
    await store.ensureBucket(location.bucket);
    bad = [];
  });

  it('reads bundles that land after it caught up, each once', async () => {
    await land(0, 9);
    const reader = follower(60_000);
    expect(await readNow(reader)).toEqual(['0..9']);
    expect(await readNow(reader)).toEqual([]);
    await land(10, 19);
    await land(20, 29);
    expect(await readNow(reader)).toEqual(['10..19', '20..29']);
    expect(reader.newestListedEnd).toBe(29n);
    expect(bad).toEqual([]);
  });

  it('holds a bundle that landed before the one ahead of it until the gap fills', async () => {
    await land(0, 9);
    const reader = follower(60_000);
    expect(await readNow(reader)).toEqual(['0..9']);
    await land(20, 29);
    expect(await readNow(reader)).toEqual([]);
    expect(reader.waitingForGap).toMatchObject({ from: 10n, to: 19n });
    expect(reader.newestListedEnd).toBe(29n);
    await land(10, 19);
    expect(await readNow(reader)).toEqual(['10..19', '20..29']);
    expect(reader.waitingForGap).toBeUndefined();
    expect(bad).toEqual([]);
  });

  it('reports a gap that stays open past its wait, and goes on past it when told to skip', async () => {
    await land(0, 9);
    const reader = follower(0);
    expect(await readNow(reader)).toEqual(['0..9']);
    await land(20, 29);
    expect(await readNow(reader)).toEqual(['20..29']);
    expect(bad.map((e) => [e.kind, e.message])).toEqual([['gap', expect.stringContaining('offsets 10..19 are missing')]]);
  });

  it('passes over an object under a temporary name (a store still writing it) instead of failing', async () => {
    await land(0, 9);
    await store.put(location.bucket, `${kafkaBundleKey(tp.topic, tp.partition, 10n, 19n)}-5f1c0e4a`, Buffer.from('partial'), {});
    const reader = follower(60_000);
    expect(await readNow(reader)).toEqual(['0..9']);
    await land(10, 19);
    expect(await readNow(reader)).toEqual(['10..19']);
    expect(bad).toEqual([]);
  });

  it('resumes after the bundle it stopped in, knowing how far the backup is', async () => {
    await land(0, 9);
    await land(10, 19);
    const key = kafkaBundleKey(tp.topic, tp.partition, 10n, 19n);
    const reader = new PartitionReader({
      store,
      location,
      tp,
      fetchAhead: 2,
      gapWaitMs: 60_000,
      resume: { key, offset: 19n },
      onBadObject: (err) => void bad.push(err),
    });
    expect(reader.newestListedEnd).toBe(19n);
    expect(await readNow(reader)).toEqual([]);
    await land(20, 29);
    expect(await readNow(reader)).toEqual(['20..29']);
  });

  it('without a resume point waits for the bundle where the backup starts (its first claim), even if later ones landed first', async () => {
    await land(10, 19);
    await land(20, 29);
    const reader = new PartitionReader({ store, location, tp, fetchAhead: 2, gapWaitMs: 60_000, expectedFirst: 0n, onBadObject: (err) => void bad.push(err) });
    expect(await readNow(reader)).toEqual([]);
    expect(reader.waitingForGap).toMatchObject({ from: 0n, to: 9n });
    await land(0, 9);
    expect(await readNow(reader)).toEqual(['0..9', '10..19', '20..29']);
    expect(bad).toEqual([]);
  });

  it('decides a hold from the key: a held bundle is not downloaded, and a corrupt one behind a gap does not hide the gap', async () => {
    await land(0, 9);
    const gets: string[] = [];
    const counting = Object.assign(Object.create(store) as LocalObjectStore, {
      get: (bucket: string, key: string) => {
        gets.push(key);
        return store.get(bucket, key);
      },
    });
    const reader = new PartitionReader({ store: counting, location, tp, fetchAhead: 2, gapWaitMs: 60_000, onBadObject: (err) => void bad.push(err) });
    expect(await readNow(reader)).toEqual(['0..9']);
    await store.put(location.bucket, kafkaBundleKey(tp.topic, tp.partition, 20n, 29n), Buffer.from('not gzip'), {});
    gets.length = 0;
    for (let i = 0; i < 3; i++) expect(await readNow(reader)).toEqual([]);
    expect(gets).toEqual([]);
    expect(reader.waitingForGap).toMatchObject({ from: 10n, to: 19n });
    expect(bad).toEqual([]);
  });
});
