// verifyBackup, inspectBundle and describeBackup (connectors/common/verify/) over a
// real LocalObjectStore holding bundles written by BackupSink's PartitionWriter and
// BundleUploader, with manifests as BackupSink writes them.
import { rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Location } from '../../connectors/common/backup-location.js';
import { backupPrefix, type ManifestObject, type ManifestPartition } from '../../connectors/common/formats/backup-manifest.js';
import { topicMetadataKey } from '../../connectors/common/formats/backup-metadata.js';
import { encodeKafkaBundle } from '../../connectors/layouts/kafka-v1/bundle-codec.js';
import { kafkaBundleKey } from '../../connectors/layouts/kafka-v1/bundle-keys.js';
import { LocalObjectStore } from '../../connectors/common/object-store/local-object-store.js';
import type { ObjectStore } from '../../connectors/common/object-store/object-store.js';
import { describeBackup, inspectBundle, verifyBackup, type RecordJson, type VerifyProgress, type VerifyReport } from '../../connectors/common/verify/index.js';
import { ColdstoreError, ErrorCodes } from '../../runtime/api/index.js';
import { backUpPartition, fixtureRecord, writeManifest } from '../helpers/backup-fixture.js';
import { tmpDir } from '../helpers/tmp.js';

const BACKUP_ID = 7;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
/** orders/1 lost offset 6 to compaction and starts at 3 (retention). */
const ORDERS_1_OFFSETS = [3, 4, 5, 7, 8, ...range(9, 15)];

const kinds = (report: VerifyReport) => report.problems.map((p) => [p.kind, p.key]);
const sum = (objects: ManifestObject[], field: 'size' | 'records') => objects.reduce((n, o) => n + o[field], 0);

/** Wraps a store: counts GETs running at the same time (each held a moment so overlaps show). */
function countingGets(inner: ObjectStore): { store: ObjectStore; maxInFlight: () => number } {
  let inFlight = 0;
  let max = 0;
  const store = new Proxy(inner, {
    get(target, property) {
      if (property === 'get') {
        return async (bucket: string, key: string) => {
          inFlight++;
          max = Math.max(max, inFlight);
          try {
            await new Promise((r) => setTimeout(r, 3));
            return await target.get(bucket, key);
          } finally {
            inFlight--;
          }
        };
      }
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store, maxInFlight: () => max };
}

for (const prefix of ['', 'events/']) {
  describe(`verify, inspect and ls data (location prefix "${prefix}")`, () => {
    let dir: string;
    let store: LocalObjectStore;
    const location: Location = { bucket: 'coldstore-test-events', prefix };
    let orders0: ManifestObject[];
    let orders1: ManifestObject[];
    let payments0: ManifestObject[];
    let partitions: ManifestPartition[];

    const full = (key: string) => `${prefix}${key}`;
    const allObjects = () => [...orders0, ...orders1, ...payments0];

    /** Replaces an object's bytes, keeping its metadata. */
    async function overwrite(key: string, change: (body: Buffer) => Buffer): Promise<void> {
      const object = await store.get(location.bucket, full(key));
      if (!object) throw new Error(`no ${key}`);
      await store.put(location.bucket, full(key), change(Buffer.from(object.body)), object.metadata);
    }

    beforeEach(async () => {
      dir = tmpDir('verify');
      store = new LocalObjectStore(dir);
      orders0 = await backUpPartition(store, location, 'orders', 0, range(0, 49), 10);
      orders1 = await backUpPartition(store, location, 'orders', 1, ORDERS_1_OFFSETS, 5);
      payments0 = await backUpPartition(store, location, 'payments', 0, range(0, 4), 100);
      partitions = [
        { topic: 'orders', partition: 0, startOffset: 0, endOffset: 50, objects: orders0 },
        { topic: 'orders', partition: 1, startOffset: 3, endOffset: 16, objects: orders1 },
        { topic: 'payments', partition: 0, startOffset: 0, endOffset: 5, objects: payments0 },
      ];
      await writeManifest(store, location, BACKUP_ID, partitions);
      // Restore metadata lives beside the bundles and is not verified as bundles.
      await store.put(location.bucket, full(topicMetadataKey('orders')), Buffer.from('{"format":"coldstore-topic-v1"}'), {});
    });

    afterEach(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it('the fixture is what BackupSink writes: tiled bundles, orders/1 starting at 3 with a hole at 6', () => {
      expect(orders0.map((o) => [o.rangeStart, o.rangeEnd])).toEqual([
        [0, 9],
        [10, 19],
        [20, 29],
        [30, 39],
        [40, 49],
      ]);
      expect(orders1.map((o) => [o.rangeStart, o.rangeEnd, o.records])).toEqual([
        [3, 8, 5],
        [9, 13, 5],
        [14, 15, 2],
      ]);
      expect(payments0).toHaveLength(1);
    });

    describe('a backup by id', () => {
      it('verifies ok with exact counts', async () => {
        const report = await verifyBackup({ store, location, backupId: BACKUP_ID });
        expect(report).toEqual({
          backupId: BACKUP_ID,
          ok: true,
          bucket: location.bucket,
          manifests: 1,
          partitions: 3,
          objects: 9,
          records: 50 + 12 + 5,
          bytes: sum(allObjects(), 'size'),
          problems: [],
          notes: [],
          encryption: { keys: [], unencryptedObjects: 9 },
        });
        expect(report.bytes).toBeGreaterThan(0);
      });

      it('a deleted bundle is missing, named by its key', async () => {
        const gone = orders0[2]!.key;
        await store.delete(location.bucket, full(gone));
        const report = await verifyBackup({ store, location, backupId: BACKUP_ID });
        expect(report.ok).toBe(false);
        expect(kinds(report)).toEqual([['missing', gone]]);
        expect(report.problems[0]).toMatchObject({ topic: 'orders', partition: 0 });
        expect(report.objects).toBe(9);
        expect(report.records).toBe(67 - 10);
      });

      it('a bundle with bytes flipped is corrupt or fails its checksum, named by its key', async () => {
        const damaged = orders1[1]!.key;
        await overwrite(damaged, (body) => {
          for (let i = 20; i < 30; i++) body[i] = body[i]! ^ 0xff;
          return body;
        });
        const report = await verifyBackup({ store, location, backupId: BACKUP_ID });
        expect(report.problems).toHaveLength(1);
        expect(['corrupt', 'checksum']).toContain(report.problems[0]!.kind);
        expect(report.problems[0]!.key).toBe(damaged);
      });

      it('a truncated object has the wrong size', async () => {
        const cut = orders0[0]!.key;
        await overwrite(cut, (body) => body.subarray(0, body.length - 5));
        const report = await verifyBackup({ store, location, backupId: BACKUP_ID });
        expect(kinds(report)).toEqual([['size', cut]]);
        expect(report.problems[0]!.message).toContain(`the manifest says ${orders0[0]!.size}`);
      });

      it('a bundle replaced by a valid one with other content (metadata to match) fails the manifest checksum', async () => {
        const replaced = orders0[1]!;
        const records = range(10, 19).map((o) => ({ ...fixtureRecord('orders', 0, o), value: Buffer.from(`forged ${o}`) }));
        const { container, metadata } = encodeKafkaBundle(full(replaced.key), 10n, 19n, records);
        const body = gzipSync(container);
        await store.put(location.bucket, full(replaced.key), body, metadata);
        const report = await verifyBackup({ store, location, backupId: BACKUP_ID, concurrency: 1 });
        expect(report.problems.map((p) => p.kind === 'size' || p.kind === 'checksum')).toEqual([true]);
        // Same size by chance or not: with the manifest size patched, the checksum catches it.
        const patched = partitions.map((p) => ({ ...p, objects: p.objects.map((o) => (o.key === replaced.key ? { ...o, size: body.length } : o)) }));
        await writeManifest(store, location, BACKUP_ID + 1, patched);
        const second = await verifyBackup({ store, location, backupId: BACKUP_ID + 1 });
        expect(kinds(second)).toEqual([['checksum', replaced.key]]);
        expect(second.problems[0]!.message).toContain(`the manifest says ${replaced.sha256}`);
      });

      it('a record count that differs from the manifest is inconsistent', async () => {
        const wrong = partitions.map((p) => (p.topic === 'payments' ? { ...p, objects: p.objects.map((o) => ({ ...o, records: o.records + 1 })) } : p));
        await writeManifest(store, location, 9, wrong);
        const report = await verifyBackup({ store, location, backupId: 9 });
        expect(kinds(report)).toEqual([['inconsistent', payments0[0]!.key]]);
        expect(report.problems[0]!.message).toContain('holds 5 records, the manifest says 6');
      });

      it('a bundle left out of the manifest is a gap naming the offsets and the bundle after it', async () => {
        const holed = partitions.map((p) => (p.topic === 'orders' && p.partition === 0 ? { ...p, objects: p.objects.filter((_, i) => i !== 3) } : p));
        await writeManifest(store, location, 10, holed);
        const report = await verifyBackup({ store, location, backupId: 10 });
        expect(kinds(report)).toEqual([['gap', orders0[4]!.key]]);
        expect(report.problems[0]!.message).toContain('offsets 30..39 are missing');
      });

      it('a partition with offsets in the cut but no objects is a gap', async () => {
        await writeManifest(store, location, 11, [...partitions, { topic: 'payments', partition: 1, startOffset: 0, endOffset: 3, objects: [] }]);
        const report = await verifyBackup({ store, location, backupId: 11 });
        expect(kinds(report)).toEqual([['gap', 'payments/1/']]);
        expect(report.partitions).toBe(4);
      });

      it('an empty partition (startOffset = endOffset) is fine', async () => {
        await writeManifest(store, location, 12, [...partitions, { topic: 'payments', partition: 1, startOffset: 4, endOffset: 4, objects: [] }]);
        const report = await verifyBackup({ store, location, backupId: 12 });
        expect(report.ok).toBe(true);
        expect(report.notes).toEqual([]);
      });

      it('a first object starting after startOffset, or a last one ending before the cut, is a note, not a problem', async () => {
        const wider = partitions.map((p) => (p.topic === 'orders' && p.partition === 1 ? { ...p, startOffset: 0, endOffset: 18 } : p));
        await writeManifest(store, location, 13, wider);
        const report = await verifyBackup({ store, location, backupId: 13 });
        expect(report.ok).toBe(true);
        expect(report.problems).toEqual([]);
        expect(report.notes).toHaveLength(2);
        expect(report.notes[0]).toMatch(/^orders\/1: the backup starts at offset 3, after the log start offset 0: offsets 0\.\.2 are not in it/);
        expect(report.notes[1]).toMatch(/^orders\/1: the last bundle ends at offset 15, before the cut's last offset 17: offsets 16\.\.17/);
      });

      it('no manifest: one manifest problem', async () => {
        const report = await verifyBackup({ store, location, backupId: 99 });
        expect(report).toMatchObject({ backupId: 99, ok: false, manifests: 0, objects: 0 });
        expect(kinds(report)).toEqual([['manifest', backupPrefix(99)]]);
        expect(report.problems[0]!.message).toBe(`no backup 99 in ${location.bucket}`);
      });

      it('an unreadable manifest: one manifest problem, nothing else read', async () => {
        await store.put(location.bucket, full(`${backupPrefix(15)}backup.json`), Buffer.from('{"format": "coldstore-backup-manifest-v1", "backupId": '), {});
        const report = await verifyBackup({ store, location, backupId: 15 });
        expect(kinds(report)).toEqual([['manifest', backupPrefix(15)]]);
        expect(report.problems[0]!.message).toContain('unreadable manifest of backup 15');
        expect(report.objects).toBe(0);
      });

      it('several manifests (one per connector) are verified together', async () => {
        await writeManifest(store, location, 14, partitions.slice(0, 2), 'backup-orders');
        await writeManifest(store, location, 14, partitions.slice(2), 'backup-payments');
        const report = await verifyBackup({ store, location, backupId: 14 });
        expect(report).toMatchObject({ ok: true, manifests: 2, partitions: 3, objects: 9, records: 67 });
      });

      it('downloads at most `concurrency` objects at once and reports progress up to the totals', async () => {
        for (const concurrency of [1, 3]) {
          const counting = countingGets(store);
          const progress: VerifyProgress[] = [];
          const report = await verifyBackup({ store: counting.store, location, backupId: BACKUP_ID, concurrency, onProgress: (p) => progress.push(p) });
          expect(report.ok).toBe(true);
          expect(counting.maxInFlight()).toBe(concurrency);
          expect(progress[0]).toEqual({ objects: 0, totalObjects: 9, bytes: 0 });
          expect(progress.at(-1)).toEqual({ objects: 9, totalObjects: 9, bytes: report.bytes });
        }
      });
    });

    describe('the continuous backup', () => {
      it('verifies ok with exact counts, skipping ~coldstore/', async () => {
        const report = await verifyBackup({ store, location });
        expect(report).toEqual({
          backupId: null,
          ok: true,
          bucket: location.bucket,
          manifests: 0,
          partitions: 3,
          objects: 9,
          records: 67,
          bytes: sum(allObjects(), 'size'),
          problems: [],
          notes: [],
          encryption: { keys: [], unencryptedObjects: 9 },
        });
      });

      it('a bundle removed from the middle is a gap naming the offsets and the bundle after it', async () => {
        await store.delete(location.bucket, full(orders0[2]!.key));
        const report = await verifyBackup({ store, location });
        expect(kinds(report)).toEqual([['gap', orders0[3]!.key]]);
        expect(report.problems[0]!.message).toContain('offsets 20..29 are missing');
        expect(report.objects).toBe(8);
      });

      it('a corrupted bundle is named by its key', async () => {
        const damaged = payments0[0]!.key;
        await overwrite(damaged, (body) => Buffer.concat([body.subarray(0, 12), Buffer.from('garbage'), body.subarray(19)]));
        const report = await verifyBackup({ store, location });
        expect(report.problems).toHaveLength(1);
        expect(['corrupt', 'checksum']).toContain(report.problems[0]!.kind);
        expect(report.problems[0]!.key).toBe(damaged);
      });

      it('a file not named like a bundle is foreign, and does not break coverage', async () => {
        await store.put(location.bucket, full('orders/0/notes.txt'), Buffer.from('hello'), {});
        await store.put(location.bucket, full('README'), Buffer.from('hello'), {});
        await store.put(location.bucket, full(`orders/01/${kafkaBundleKey('x', 0, 0n, 1n).split('/')[2]}`), Buffer.from('x'), {});
        const report = await verifyBackup({ store, location });
        expect(kinds(report).sort()).toEqual([
          ['foreign', 'README'],
          ['foreign', 'orders/0/notes.txt'],
          ['foreign', `orders/01/${kafkaBundleKey('x', 0, 0n, 1n).split('/')[2]}`],
        ]);
        expect(report.objects).toBe(9);
      });

      it('an object named like a bundle without coldstore metadata is foreign', async () => {
        const key = kafkaBundleKey('orders', 0, 50n, 59n);
        await store.put(location.bucket, full(key), Buffer.from('copied without metadata'), {});
        const report = await verifyBackup({ store, location });
        expect(kinds(report)).toEqual([['foreign', key]]);
        expect(report.objects).toBe(10);
      });

      it("a bundle whose records do not match its metadata's count is inconsistent", async () => {
        const key = payments0[0]!.key;
        const object = (await store.get(location.bucket, full(key)))!;
        await store.put(location.bucket, full(key), object.body, { ...object.metadata, 'coldstore-records': '4' });
        const report = await verifyBackup({ store, location });
        expect(kinds(report)).toEqual([['inconsistent', key]]);
      });

      it('downloads at most `concurrency` objects at once', async () => {
        const counting = countingGets(store);
        const progress: VerifyProgress[] = [];
        const report = await verifyBackup({ store: counting.store, location, concurrency: 2, onProgress: (p) => progress.push(p) });
        expect(report.ok).toBe(true);
        expect(counting.maxInFlight()).toBe(2);
        expect(progress.at(-1)).toEqual({ objects: 9, totalObjects: 9, bytes: report.bytes });
      });
    });

    describe('inspectBundle', () => {
      const collect = async (options: Partial<Parameters<typeof inspectBundle>[0]> & { key: string }) => {
        const out: RecordJson[] = [];
        for await (const record of inspectBundle({ store, location, ...options })) out.push(record);
        return out;
      };

      it('yields the records as JSON: UTF-8 text, base64 flagged for binary, null kept', async () => {
        const records = await collect({ key: orders0[0]!.key });
        expect(records.map((r) => r.offset)).toEqual(range(0, 9));
        expect(records[0]).toEqual({
          topic: 'orders',
          partition: 0,
          offset: 0,
          timestamp: 1_700_000_000_000,
          timestampType: 'LOG_APPEND_TIME',
          key: null,
          value: Buffer.from([0xff, 0xfe, 0]).toString('base64'),
          valueEncoding: 'base64',
          headers: [{ key: 'h', value: null }],
        });
        expect(records[1]).toEqual({
          topic: 'orders',
          partition: 0,
          offset: 1,
          timestamp: 1_700_000_000_001,
          timestampType: 'CREATE_TIME',
          key: 'k1',
          value: 'value 1 ✓',
          headers: [{ key: 'n', value: '1' }],
        });
      });

      it('an explicit encoding applies to every field, without flags; limit stops early', async () => {
        const records = await collect({ key: orders0[0]!.key, encoding: 'hex', limit: 2 });
        expect(records).toHaveLength(2);
        expect(records[1]).toMatchObject({
          key: Buffer.from('k1').toString('hex'),
          value: Buffer.from('value 1 ✓').toString('hex'),
          headers: [{ key: 'n', value: '31' }],
        });
        expect(records[0]).not.toHaveProperty('valueEncoding');
        expect(records[0]!.value).toBe('fffe00');
      });

      it('a corrupt object is a BACKUP_OBJECT_INVALID error naming the key', async () => {
        const key = orders0[1]!.key;
        await overwrite(key, () => Buffer.from('not gzip'));
        const err = await collect({ key }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ColdstoreError);
        expect((err as ColdstoreError).code).toBe(ErrorCodes.BACKUP_OBJECT_INVALID);
        expect((err as Error).message).toContain(key);
        expect((err as Error).message).toMatch(/^corrupt: /);
      });

      it('a key not named like a bundle, or absent, is an error naming it', async () => {
        await expect(collect({ key: 'orders/0/notes.txt' })).rejects.toThrow(/^foreign: orders\/0\/notes\.txt/);
        const absent = kafkaBundleKey('orders', 0, 100n, 109n);
        await expect(collect({ key: absent })).rejects.toThrow(`missing: ${absent}`);
      });
    });

    describe('describeBackup', () => {
      it('the continuous backup: per topic and partition, record offsets, objects, records, bytes', async () => {
        const description = await describeBackup({ store, location });
        expect(description).toEqual({
          backupId: null,
          bucket: location.bucket,
          objects: 9,
          records: 67,
          bytes: sum(allObjects(), 'size'),
          foreignObjects: 0,
          topics: [
            {
              topic: 'orders',
              objects: 8,
              records: 62,
              bytes: sum([...orders0, ...orders1], 'size'),
              partitions: [
                { partition: 0, objects: 5, records: 50, bytes: sum(orders0, 'size'), firstOffset: 0, lastOffset: 49 },
                { partition: 1, objects: 3, records: 12, bytes: sum(orders1, 'size'), firstOffset: 3, lastOffset: 15 },
              ],
            },
            {
              topic: 'payments',
              objects: 1,
              records: 5,
              bytes: sum(payments0, 'size'),
              partitions: [{ partition: 0, objects: 1, records: 5, bytes: sum(payments0, 'size'), firstOffset: 0, lastOffset: 4 }],
            },
          ],
        });
      });

      it('one topic, with its bundles listed, and foreign objects counted', async () => {
        await store.put(location.bucket, full('orders/1/notes.txt'), Buffer.from('hello'), {});
        const description = await describeBackup({ store, location, topic: 'orders', objects: true });
        expect(description.topics.map((t) => t.topic)).toEqual(['orders']);
        expect(description.foreignObjects).toBe(1);
        expect(description.topics[0]!.partitions[1]!.bundles).toEqual(
          orders1.map((o) => ({ key: o.key, rangeStart: o.rangeStart, rangeEnd: o.rangeEnd, records: o.records, bytes: o.size })),
        );
      });

      it('a backup by id, from its manifests alone: the cut as the offset range', async () => {
        const wider = partitions.map((p) => (p.topic === 'orders' && p.partition === 1 ? { ...p, startOffset: 0, endOffset: 18 } : p));
        await writeManifest(store, location, 13, wider);
        // No object is read: deleting them all changes nothing.
        for (const object of allObjects()) await store.delete(location.bucket, full(object.key));
        const description = await describeBackup({ store, location, backupId: 13 });
        expect(description.backupId).toBe(13);
        expect(description.objects).toBe(9);
        expect(description.records).toBe(67);
        expect(description.bytes).toBe(sum(allObjects(), 'size'));
        expect(description.topics[0]!.partitions[1]).toEqual({
          partition: 1,
          objects: 3,
          records: 12,
          bytes: sum(orders1, 'size'),
          firstOffset: 0,
          lastOffset: 17,
        });
      });

      it('an unknown backup id is BACKUP_NOT_FOUND', async () => {
        const err = await describeBackup({ store, location, backupId: 99 }).catch((e: unknown) => e);
        expect((err as ColdstoreError).code).toBe(ErrorCodes.BACKUP_NOT_FOUND);
      });
    });
  });
}
