// verifyBackup, inspectAzulBundle/inspectBundle and describeBackup on a layout=azul
// backup written by the real writer (AzulLayout, BundleUploader, StreamArchiver) into a
// LocalObjectStore: separate events/streams buckets, and one shared bucket.
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Location } from '../../connectors/common/backup-location.js';
import { assembleBulk } from '../../connectors/layouts/azul/bulk.js';
import { streamKey } from '../../connectors/layouts/azul/keys.js';
import { azulBundleMetadata, type AzulIndexEntry } from '../../connectors/layouts/azul/objects.js';
import { AZUL_MODEL_VERSION } from '../../connectors/layouts/azul/registry.js';
import { LocalObjectStore } from '../../connectors/common/object-store/local-object-store.js';
import type { ObjectStore } from '../../connectors/common/object-store/object-store.js';
import {
  describeBackup,
  inspectAzulBundle,
  inspectBundle,
  renderVerifyReport,
  verifyBackup,
  type RecordJson,
  type VerifyProgress,
  type VerifyReport,
} from '../../connectors/common/verify/index.js';
import { ColdstoreError, ErrorCodes } from '../../runtime/api/index.js';
import { BINARY_TOPIC, DELETE_TOPIC, SOURCE, writeAzulFixture, type WrittenAzulFixture } from '../helpers/azul-verify-fixture.js';
import { binaryEvent, vectorEvents } from '../helpers/azul-vectors.js';
import { tmpDir } from '../helpers/tmp.js';

const kinds = (report: VerifyReport) => report.problems.map((p) => [p.kind, p.key]);
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Wraps a store: counts HEADs running at the same time (each held a moment so overlaps show). */
function countingHeads(inner: ObjectStore): { store: ObjectStore; maxInFlight: () => number; heads: string[] } {
  let inFlight = 0;
  let max = 0;
  const heads: string[] = [];
  const store = new Proxy(inner, {
    get(target, property) {
      if (property === 'head') {
        return async (bucket: string, key: string) => {
          heads.push(key);
          inFlight++;
          max = Math.max(max, inFlight);
          try {
            await new Promise((r) => setTimeout(r, 3));
            return await target.head(bucket, key);
          } finally {
            inFlight--;
          }
        };
      }
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store, maxInFlight: () => max, heads };
}

const LAYOUTS: { name: string; events: Location; streams: Location }[] = [
  { name: 'separate buckets', events: { bucket: 'coldstore-azul-events', prefix: '' }, streams: { bucket: 'coldstore-azul-streams', prefix: '' } },
  { name: 'one shared bucket', events: { bucket: 'coldstore-shared', prefix: 'events/' }, streams: { bucket: 'coldstore-shared', prefix: 'streams/' } },
];

for (const { name, events, streams } of LAYOUTS) {
  describe(`verify, inspect and ls of a layout=azul backup (${name})`, () => {
    let dir: string;
    let store: LocalObjectStore;
    let fixture: WrittenAzulFixture;

    const full = (key: string) => `${events.prefix}${key}`;
    const range = (i: number) => fixture.ranges[i]!;
    const bundleKey = (i: number) => range(i).entry.bundle!.key;
    const rejectsKey = (i: number) => range(i).entry.rejects!.key;
    const verify = () => verifyBackup({ store, location: events, streams });
    const objects = () => fixture.ranges.reduce((n, r) => n + (r.entry.bundle ? 1 : 0) + (r.entry.rejects ? 1 : 0), 0);

    /** Replaces an object's bytes, keeping its metadata. */
    async function overwrite(key: string, change: (body: Buffer) => Buffer): Promise<void> {
      const object = await store.get(events.bucket, full(key));
      if (!object) throw new Error(`no ${key}`);
      await store.put(events.bucket, full(key), change(Buffer.from(object.body)), object.metadata);
    }

    /** Rewrites range i's index entry, with metadata to match, as a writer would have written it. */
    async function rewriteEntry(i: number, change: (entry: AzulIndexEntry) => AzulIndexEntry): Promise<void> {
      const key = full(range(i).indexKey);
      const object = (await store.get(events.bucket, key))!;
      const body = Buffer.from(JSON.stringify(change(JSON.parse(object.body.toString('utf8')) as AzulIndexEntry)));
      await store.put(events.bucket, key, body, { ...object.metadata, 'coldstore-body-sha256': sha256(body) });
    }

    beforeEach(async () => {
      dir = tmpDir('verify-azul');
      store = new LocalObjectStore(dir);
      fixture = await writeAzulFixture(store, events, streams);
    });

    afterEach(() => {
      fixture.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('the fixture is what the writer makes: bundles, rejects alone or beside events, one index entry per range', () => {
      expect(
        fixture.ranges.map((r) => [
          r.entry.topic,
          r.entry.partition,
          r.entry.start,
          r.entry.end,
          r.entry.bundle?.events,
          r.entry.rejects?.records,
          r.entry.streams,
        ]),
      ).toEqual([
        [BINARY_TOPIC, 0, '0', '2', 3, undefined, 3],
        [BINARY_TOPIC, 0, '3', '5', 2, 1, 1],
        [BINARY_TOPIC, 0, '6', '6', undefined, 1, 0],
        [BINARY_TOPIC, 0, '7', '8', 2, undefined, 1],
        [BINARY_TOPIC, 1, '0', '1', 2, undefined, 1],
        [DELETE_TOPIC, 0, '10', String(9 + vectorEvents('delete').length), vectorEvents('delete').length, undefined, 0],
      ]);
      expect(bundleKey(0)).toMatch(/^src\/binary\/sourced\/2023-11-14T22:13:20\.000002Z-3-k2$/);
      expect(bundleKey(5)).toMatch(/^system\/delete\/default\//);
    });

    it('a clean backup verifies OK, detected as azul, with exact counts', async () => {
      const report = await verify();
      expect(report).toMatchObject({
        backupId: null,
        ok: true,
        bucket: events.bucket,
        layout: 'azul',
        partitions: 3,
        objects: objects(),
        records: fixture.events + fixture.rejects,
        streams: 4,
        problems: [],
        notes: [],
      });
      expect(report.bytes).toBeGreaterThan(0);
      expect(renderVerifyReport(report)).toContain(`Continuous backup (layout azul) in bucket ${events.bucket}: 3 partitions, ${objects()} objects`);
      expect(renderVerifyReport(report)).toContain(`${fixture.events + fixture.rejects} records, 4 streams checked`);
    });

    it('each distinct stream is looked up once, at most `concurrency` HEADs at a time; progress counts up to the objects listed', async () => {
      const counting = countingHeads(store);
      const progress: VerifyProgress[] = [];
      const report = await verifyBackup({ store: counting.store, location: events, streams, concurrency: 2, onProgress: (p) => progress.push(p) });
      expect(report.ok).toBe(true);
      expect(progress.at(-1)).toEqual({ objects: objects(), totalObjects: objects(), bytes: report.bytes });
      const streamHeads = counting.heads.filter((k) => k.startsWith(`${streams.prefix}${SOURCE}/`));
      expect(streamHeads.sort()).toEqual(
        Object.values(fixture.streams)
          .map((ref) => `${streams.prefix}${streamKey(ref)}`)
          .sort(),
      );
      expect(counting.maxInFlight()).toBeLessThanOrEqual(2);
    });

    it('a missing stream blob is stream-missing, naming the stream and the bundle that refers to it', async () => {
      const gone = streamKey(fixture.streams.s4);
      await store.delete(streams.bucket, `${streams.prefix}${gone}`);
      const report = await verify();
      expect(report.ok).toBe(false);
      expect(report.problems).toEqual([
        {
          kind: 'stream-missing',
          key: gone,
          topic: BINARY_TOPIC,
          partition: 1,
          bundle: bundleKey(4),
          message: `is not in the streams bucket ${streams.bucket}; ${bundleKey(4)} refers to it`,
        },
      ]);
    });

    it('a stream the dispatcher did not have (404) when it was backed up is stream-missing too', async () => {
      const unknown = { source: SOURCE, label: 'content', sha256: 'ab'.repeat(32) };
      const written = await fixture.writeRange([
        {
          topic: BINARY_TOPIC,
          partition: 0,
          offset: 9n,
          timestamp: 0,
          timestampType: 'CREATE_TIME',
          key: null,
          headers: [],
          value: binaryEvent({ source: SOURCE, kafkaKey: 'k9', timestampMicros: 1_700_000_000_000_009n, streams: [unknown] }),
        },
      ]);
      expect(written.entry.streams).toBe(1);
      const report = await verify();
      expect(kinds(report)).toEqual([['stream-missing', streamKey(unknown)]]);
      expect(report.problems[0]!.bundle).toBe(written.entry.bundle!.key);
    });

    it('a stream blob without stream metadata is inconsistent', async () => {
      const key = `${streams.prefix}${streamKey(fixture.streams.s1)}`;
      const object = (await store.get(streams.bucket, key))!;
      await store.put(streams.bucket, key, object.body, {});
      const report = await verify();
      expect(kinds(report)).toEqual([['inconsistent', streamKey(fixture.streams.s1)]]);
    });

    it('a tampered bundle (other bytes, same metadata) fails its checksum', async () => {
      await overwrite(bundleKey(0), (body) => {
        const bulk = gunzipSync(body);
        bulk[bulk.length - 10] = bulk[bulk.length - 10]! ^ 0x01;
        return gzipSync(bulk);
      });
      const report = await verify();
      expect(kinds(report)).toEqual([['checksum', bundleKey(0)]]);
      expect(report.problems[0]!.message).toContain('its index entry says');
    });

    it('a bundle with flipped bytes is corrupt or fails its checksum', async () => {
      await overwrite(bundleKey(3), (body) => Buffer.concat([body.subarray(0, 12), Buffer.from('garbage'), body.subarray(19)]));
      const report = await verify();
      expect(report.problems).toHaveLength(1);
      expect(['corrupt', 'checksum']).toContain(report.problems[0]!.kind);
      expect(report.problems[0]).toMatchObject({ key: bundleKey(3), topic: BINARY_TOPIC, partition: 0 });
    });

    it('a valid bundle of other events, with index entry and metadata to match its sha256, is inconsistent: the count and the key tell', async () => {
      const key = bundleKey(5);
      const bulk = assembleBulk(
        AZUL_MODEL_VERSION,
        vectorEvents('delete')
          .slice(0, 2)
          .map((v) => v.bytes),
      );
      const object = (await store.get(events.bucket, full(key)))!;
      await store.put(events.bucket, full(key), gzipSync(bulk), { ...object.metadata, 'coldstore-body-sha256': sha256(bulk) });
      await rewriteEntry(5, (entry) => ({ ...entry, bundle: { ...entry.bundle!, sha256: sha256(bulk) } }));
      const report = await verify();
      expect(kinds(report)).toEqual([['inconsistent', key]]);
      expect(report.problems[0]!.message).toBe(`holds 2 events, its index entry says ${vectorEvents('delete').length}`);

      // Counts made to match too: the key, derived from the last event and the count, does not.
      const metadata = azulBundleMetadata({ events: 2, sha256: sha256(bulk) });
      await store.put(events.bucket, full(key), gzipSync(bulk), metadata);
      await rewriteEntry(5, (entry) => ({ ...entry, bundle: { ...entry.bundle!, events: 2 } }));
      const again = await verify();
      expect(kinds(again)).toEqual([['inconsistent', key]]);
      expect(again.problems[0]!.message).toMatch(/^its last event and count make the key system\/delete\/default\/.*-2-/);
    });

    it('a deleted bundle is missing, naming its index entry', async () => {
      await store.delete(events.bucket, full(bundleKey(1)));
      const report = await verify();
      expect(kinds(report)).toEqual([['missing', bundleKey(1)]]);
      expect(report.problems[0]!.message).toBe(`the index entry ${range(1).indexKey} names it, but it is not in the bucket`);
      // Its streams were not read, so s2 is looked up through the first range only.
      expect(report.streams).toBe(4);
    });

    it('a gap in the index is a gap named by the entry after it; what the lost entry named is foreign', async () => {
      await store.delete(events.bucket, full(range(1).indexKey));
      const report = await verify();
      expect(kinds(report).sort()).toEqual(
        [
          ['foreign', bundleKey(1)],
          ['foreign', rejectsKey(1)],
          ['gap', range(2).indexKey],
        ].sort(),
      );
      expect(report.problems.find((p) => p.kind === 'gap')!.message).toContain('offsets 3..5 are missing');
      expect(report.problems.find((p) => p.key === bundleKey(1))!.message).toMatch(/^an azul bundle that no valid index entry names: the ranges it holds/);
    });

    it('stray objects are foreign, each with what it looks like', async () => {
      const azulNamed = `${SOURCE}/binary/sourced/2024-01-01T00:00:00Z-1-stray`;
      await store.put(events.bucket, full(azulNamed), gzipSync(Buffer.from('from the Azul backup service')), {});
      await store.put(events.bucket, full('notes.txt'), Buffer.from('hello'), {});
      await store.put(events.bucket, full('~coldstore/azul-index/whatever.json'), Buffer.from('{}'), {});
      // coldstore's own metadata is no stray.
      await store.put(events.bucket, full('~coldstore/topics/x.json'), Buffer.from('{}'), {});
      const report = await verify();
      expect(kinds(report).sort()).toEqual(
        [
          ['foreign', azulNamed],
          ['foreign', 'notes.txt'],
          ['foreign', '~coldstore/azul-index/whatever.json'],
        ].sort(),
      );
      expect(report.problems.find((p) => p.key === azulNamed)!.message).toContain('not written by coldstore');
    });

    it('the rejects bundles are checked like kafka-v1 bundles, against their index entry', async () => {
      await overwrite(rejectsKey(2), (body) => Buffer.concat([body.subarray(0, body.length - 30), Buffer.alloc(30)]));
      await store.delete(events.bucket, full(rejectsKey(1)));
      const report = await verify();
      expect(report.problems.map((p) => p.key)).toEqual([rejectsKey(1), rejectsKey(2)].sort());
      expect(report.problems.find((p) => p.key === rejectsKey(1))).toMatchObject({
        kind: 'missing',
        message: 'listed in its index entry but not in the bucket',
      });
      expect(['corrupt', 'checksum']).toContain(report.problems.find((p) => p.key === rejectsKey(2))!.kind);
    });

    it('an index entry whose body was changed fails its checksum; one naming another range is inconsistent', async () => {
      const key = range(3).indexKey;
      await overwrite(key, (body) => Buffer.from(body.toString('utf8').replace('"streams":1', '"streams":2')));
      const changed = await verify();
      // What a damaged entry names is not vouched for: its bundle is reported too, pointing at the entry.
      expect(kinds(changed)).toEqual([
        ['foreign', bundleKey(3)],
        ['checksum', key],
      ]);
      expect(changed.problems[0]!.message).toContain('an azul bundle that no valid index entry names');

      await rewriteEntry(3, (entry) => ({ ...entry, start: '6' }));
      const report = await verify();
      expect(kinds(report)).toEqual([
        ['foreign', bundleKey(3)],
        ['inconsistent', key],
      ]);
      expect(report.problems[1]!.message).toContain(
        'says it covers azul.test.src.binary.sourced/0 offsets 6..8, its key azul.test.src.binary.sourced/0 offsets 7..8',
      );
    });

    it('layout kafka, forced, sees no bundle it knows: every object is foreign', async () => {
      const report = await verifyBackup({ store, location: events, streams, layout: 'kafka' });
      expect(report.ok).toBe(false);
      expect(report.layout).toBeUndefined();
      expect(new Set(report.problems.map((p) => p.kind))).toEqual(new Set(['foreign']));
    });

    it('without a streams location, streams are not checked and a note says so', async () => {
      const report = await verifyBackup({ store, location: events });
      expect(report).toMatchObject({ ok: true, streams: 0, notes: ['stream blobs were not checked: no streams location was given'] });
    });

    describe('inspect', () => {
      it('an azul bundle: its metadata, and each event decoded as JSON (longs as strings, datastreams)', async () => {
        const bundle = await inspectAzulBundle({ store, location: events, key: bundleKey(0) });
        expect(bundle.key).toBe(bundleKey(0));
        expect(bundle.model).toBe('binary');
        expect(bundle.metadata).toMatchObject({
          'coldstore-format': 'azul-v6',
          'coldstore-record-count': '3',
        });
        // Ranges of identical events share the object: it names no range of its own.
        expect(Object.keys(bundle.metadata).filter((k) => /topic|partition|range/.test(k))).toEqual([]);
        expect(bundle.events).toHaveLength(3);
        const second = bundle.events[1] as {
          kafka_key: string;
          timestamp: string;
          model_version: string;
          source: { name: string };
          entity: { datastreams: { label: string; sha256: string }[] };
        };
        expect(second).toMatchObject({ kafka_key: 'k1', timestamp: '1700000000000001', model_version: '6', source: { name: SOURCE } });
        expect(second.entity.datastreams.map((d) => [d.label, d.sha256])).toEqual([
          ['content', fixture.streams.s2.sha256],
          ['text', fixture.streams.s3.sha256],
        ]);
        // Plain JSON all the way down.
        expect(JSON.parse(JSON.stringify(bundle.events))).toEqual(bundle.events);

        const limited = await inspectAzulBundle({ store, location: events, key: full(bundleKey(5)), limit: 1 });
        expect(limited.events).toHaveLength(1);
        expect(limited.model).toBe('delete');
      });

      it('a damaged azul bundle is a BACKUP_OBJECT_INVALID error naming the key', async () => {
        await overwrite(bundleKey(0), () => Buffer.from('not gzip'));
        const err = await inspectAzulBundle({ store, location: events, key: bundleKey(0) }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ColdstoreError);
        expect((err as ColdstoreError).code).toBe(ErrorCodes.BACKUP_OBJECT_INVALID);
        expect((err as Error).message).toMatch(new RegExp(`^corrupt: ${bundleKey(0).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} in `));
      });

      it('a rejects bundle reads like any kafka-v1 bundle', async () => {
        const records: RecordJson[] = [];
        for await (const r of inspectBundle({ store, location: events, key: rejectsKey(2) })) records.push(r);
        expect(records).toEqual([
          {
            topic: BINARY_TOPIC,
            partition: 0,
            offset: 6,
            timestamp: 1_700_000_000_006,
            timestampType: 'CREATE_TIME',
            key: 'k6',
            value: 'not an Azul event',
            headers: [],
          },
        ]);
      });
    });

    describe('ls', () => {
      it('per topic and partition, from the bundles metadata, rejects included; azul keys listed for inspect', async () => {
        await store.put(events.bucket, full('notes.txt'), Buffer.from('hello'), {});
        const description = await describeBackup({ store, location: events, objects: true });
        expect(description).toMatchObject({
          backupId: null,
          layout: 'azul',
          objects: objects(),
          records: fixture.events + fixture.rejects,
          foreignObjects: 1,
        });
        expect(description.topics.map((t) => [t.topic, t.partitions.map((p) => [p.partition, p.objects, p.records, p.firstOffset, p.lastOffset])])).toEqual([
          [
            BINARY_TOPIC,
            [
              [0, 5, 9, 0, 8],
              [1, 1, 2, 0, 1],
            ],
          ],
          [DELETE_TOPIC, [[0, 1, 4, 10, 13]]],
        ]);
        expect(description.topics[0]!.partitions[0]!.bundles!.map((b) => b.key).sort()).toEqual([0, 1, 3].map(bundleKey).concat([1, 2].map(rejectsKey)).sort());
      });

      it('one topic only', async () => {
        const description = await describeBackup({ store, location: events, topic: DELETE_TOPIC });
        expect(description.topics.map((t) => t.topic)).toEqual([DELETE_TOPIC]);
        expect(description.objects).toBe(1);
        expect(description.foreignObjects).toBe(0);
      });
    });
  });
}
