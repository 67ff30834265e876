// RestoreSource's PartitionReader and fetchBundle (connectors/restore-source/
// partition-reader.ts, bundle-fetch.ts) over a real LocalObjectStore holding real
// kafka-v1 bundles: order, resume, point-in-time limits, bad objects and gaps,
// and transient store failures.
import { createHash, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RetriableError, type SinkRecord } from '../../runtime/api/index.js';
import { BadObjectError } from '../../connectors/restore-source/bad-object.js';
import { fetchBundle, type FetchedBundle } from '../../connectors/restore-source/bundle-fetch.js';
import { PartitionReader, type ReaderOptions } from '../../connectors/restore-source/partition-reader.js';
import type { Location } from '../../connectors/common/backup-location.js';
import { encodeKafkaBundle } from '../../connectors/layouts/kafka-v1/bundle-codec.js';
import { kafkaBundleKey } from '../../connectors/layouts/kafka-v1/bundle-keys.js';
import { LocalObjectStore } from '../../connectors/common/object-store/local-object-store.js';
import {
  TransientStoreError,
  type FetchedObject,
  type LifecycleRule,
  type ObjectInfo,
  type ObjectMetadata,
  type ObjectStore,
  type PutOutcome,
  type StoredObject,
} from '../../connectors/common/object-store/object-store.js';
import { tmpDir } from '../helpers/tmp.js';

const TOPIC = 't';
const PARTITION = 1;

function rec(offset: number, partition = PARTITION, topic = TOPIC): SinkRecord {
  return {
    topic,
    partition,
    offset: BigInt(offset),
    timestamp: 1_700_000_000_000 + offset,
    timestampType: 'CREATE_TIME',
    key: offset % 3 === 0 ? null : Buffer.from(`key-${offset}`),
    value: Buffer.from(`value-${offset}`),
    headers: [{ key: 'n', value: Buffer.from(String(offset)) }],
  };
}

/** What a store call should do for one key, in the test double. */
type Fault = 'transient' | 'missing';

/** Delegates to a real store; `get` can fail once per key, `list` once after n items; counts gets. */
class FaultyStore implements ObjectStore {
  readonly description = 'faulty test store';
  readonly gets: string[] = [];
  readonly getFaults = new Map<string, Fault>();
  /** Throw a TransientStoreError once, after yielding this many items of a listing. */
  listFailsAfter: number | undefined;

  constructor(private readonly inner: ObjectStore) {}

  ensureBucket(bucket: string): Promise<void> {
    return this.inner.ensureBucket(bucket);
  }
  probe(bucket: string, signal: AbortSignal): Promise<void> {
    return this.inner.probe(bucket, signal);
  }
  putIfAbsent(bucket: string, key: string, body: Buffer, metadata: ObjectMetadata): Promise<PutOutcome> {
    return this.inner.putIfAbsent(bucket, key, body, metadata);
  }
  put(bucket: string, key: string, body: Buffer, metadata: ObjectMetadata): Promise<void> {
    return this.inner.put(bucket, key, body, metadata);
  }
  head(bucket: string, key: string): Promise<StoredObject | undefined> {
    return this.inner.head(bucket, key);
  }
  async get(bucket: string, key: string): Promise<FetchedObject | undefined> {
    this.gets.push(key);
    const fault = this.getFaults.get(key);
    if (fault === 'transient') {
      this.getFaults.delete(key);
      throw new TransientStoreError(`503 Slow Down reading ${key}`);
    }
    if (fault === 'missing') return undefined;
    return this.inner.get(bucket, key);
  }
  async *list(bucket: string, prefix: string, startAfter?: string): AsyncIterable<ObjectInfo> {
    let n = 0;
    for await (const item of this.inner.list(bucket, prefix, startAfter)) {
      if (this.listFailsAfter !== undefined && n === this.listFailsAfter) {
        this.listFailsAfter = undefined;
        throw new TransientStoreError('connection reset while listing');
      }
      n++;
      yield item;
    }
  }
  listDirectories(bucket: string, prefix: string): Promise<string[]> {
    return this.inner.listDirectories(bucket, prefix);
  }
  delete(bucket: string, key: string): Promise<void> {
    return this.inner.delete(bucket, key);
  }
  setLifecycle(bucket: string, rules: LifecycleRule[]): Promise<{ supported: boolean }> {
    return this.inner.setLifecycle(bucket, rules);
  }
}

/** A bundle as `[key, offsets]`. */
type Shape = [string, number[]];
const shape = (b: FetchedBundle): Shape => [b.key, b.records.map((r) => Number(r.offset))];

/** Reads until the partition is done; transient failures are retried (as the runtime retries poll). */
async function drain(reader: PartitionReader, maxErrors = 20): Promise<{ bundles: Shape[]; errors: unknown[] }> {
  const bundles: Shape[] = [];
  const errors: unknown[] = [];
  for (let calls = 0; calls < 200; calls++) {
    let bundle: FetchedBundle | undefined;
    try {
      bundle = await reader.next();
    } catch (err) {
      errors.push(err);
      if (!(err instanceof RetriableError) || errors.length > maxErrors) throw err;
      continue;
    }
    if (!bundle) {
      // Done stays done.
      expect(await reader.next()).toBeUndefined();
      return { bundles, errors };
    }
    bundles.push(shape(bundle));
  }
  throw new Error('the reader never finished');
}

const offsetsOf = (bundles: Shape[]) => bundles.flatMap(([, offsets]) => offsets);

for (const prefix of ['', 'events/']) {
  describe(`PartitionReader (location prefix "${prefix}")`, () => {
    let dir: string;
    let local: LocalObjectStore;
    let store: FaultyStore;
    const location: Location = { bucket: 'backup', prefix };
    let bad: BadObjectError[];

    /** Bundle keys without the location prefix, as the reader's resume point holds them. */
    const K = {
      b0: kafkaBundleKey(TOPIC, PARTITION, 0n, 4n),
      b1: kafkaBundleKey(TOPIC, PARTITION, 5n, 9n),
      b2: kafkaBundleKey(TOPIC, PARTITION, 10n, 14n),
      b3: kafkaBundleKey(TOPIC, PARTITION, 15n, 19n),
    };
    const full = (key: string) => `${prefix}${key}`;
    /** b1 has no record 7 (compacted away); b3's range ends after its last record (17). */
    const CONTENT: Record<keyof typeof K, number[]> = { b0: [0, 1, 2, 3, 4], b1: [5, 6, 8, 9], b2: [10, 11, 12, 13, 14], b3: [15, 16, 17] };
    const ALL = [...CONTENT.b0, ...CONTENT.b1, ...CONTENT.b2, ...CONTENT.b3];
    const EXPECTED: Shape[] = [
      [full(K.b0), CONTENT.b0],
      [full(K.b1), CONTENT.b1],
      [full(K.b2), CONTENT.b2],
      [full(K.b3), CONTENT.b3],
    ];

    async function putBundle(key: string, start: bigint, end: bigint, offsets: number[], partition = PARTITION): Promise<void> {
      const { container, metadata } = encodeKafkaBundle(
        key,
        start,
        end,
        offsets.map((o) => rec(o, partition)),
      );
      const outcome = await local.putIfAbsent(location.bucket, full(key), gzipSync(container), metadata);
      expect(outcome.created).toBe(true);
    }

    /** Replaces one of the standard bundles with other bytes and metadata. */
    async function replace(key: string, body: Buffer, metadata: ObjectMetadata): Promise<void> {
      await local.put(location.bucket, full(key), body, metadata);
    }

    function reader(options: Partial<ReaderOptions> = {}): PartitionReader {
      return new PartitionReader({
        store,
        location,
        tp: { topic: TOPIC, partition: PARTITION },
        fetchAhead: 2,
        onBadObject: (err) => {
          bad.push(err);
        },
        ...options,
      });
    }

    const reports = () => bad.map((e) => [e.kind, e.key]);

    beforeEach(async () => {
      dir = tmpDir('restore-reader');
      local = new LocalObjectStore(dir);
      store = new FaultyStore(local);
      bad = [];
      await local.ensureBucket(location.bucket);
      await putBundle(K.b0, 0n, 4n, CONTENT.b0);
      await putBundle(K.b1, 5n, 9n, CONTENT.b1);
      await putBundle(K.b2, 10n, 14n, CONTENT.b2);
      await putBundle(K.b3, 15n, 19n, CONTENT.b3);
      // Neighbours the reader must not see: partitions 0 and 10 of t, topic t2, and another prefix.
      await putBundle(kafkaBundleKey(TOPIC, 0, 0n, 4n), 0n, 4n, [0, 1, 2, 3, 4], 0);
      await putBundle(kafkaBundleKey(TOPIC, 10, 0n, 4n), 0n, 4n, [0, 1, 2, 3, 4], 10);
      const other = encodeKafkaBundle(kafkaBundleKey('t2', 1, 0n, 4n), 0n, 4n, [rec(0, 1, 't2')]);
      await local.putIfAbsent(location.bucket, full(kafkaBundleKey('t2', 1, 0n, 4n)), gzipSync(other.container), other.metadata);
      if (prefix) await local.putIfAbsent(location.bucket, `streams/${K.b0}`, Buffer.from('not ours'), {});
    });

    afterEach(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    describe('reading', () => {
      it('returns the bundles in offset order with their records, and nothing else', async () => {
        const { bundles, errors } = await drain(reader());
        expect(bundles).toEqual(EXPECTED);
        expect(errors).toEqual([]);
        expect(reports()).toEqual([]);
      });

      it('decodes the records faithfully', async () => {
        const first = await reader().next();
        expect(first?.start).toBe(0n);
        expect(first?.end).toBe(4n);
        expect(first?.bytes).toBeGreaterThan(0);
        const records = first?.records ?? [];
        expect(records).toHaveLength(5);
        expect(records[0]).toEqual({
          topic: TOPIC,
          partition: PARTITION,
          offset: 0n,
          timestamp: 1_700_000_000_000,
          timestampType: 'CREATE_TIME',
          key: null,
          value: Buffer.from('value-0'),
          headers: [{ key: 'n', value: Buffer.from('0') }],
        });
        expect(records[1]?.key).toEqual(Buffer.from('key-1'));
      });

      it('keeps at most fetchAhead bundles fetching ahead', async () => {
        for (const fetchAhead of [1, 2, 3]) {
          store.gets.length = 0;
          const r = reader({ fetchAhead });
          const first = await r.next();
          expect(first?.key).toBe(full(K.b0));
          expect(store.gets.length, `fetchAhead ${fetchAhead}`).toBeLessThanOrEqual(fetchAhead);
          expect(store.gets[0]).toBe(full(K.b0));
          const { bundles } = await drain(r);
          expect(bundles).toEqual(EXPECTED.slice(1));
          // Every bundle read exactly once.
          expect([...store.gets].sort()).toEqual(EXPECTED.map(([k]) => k));
        }
      });

      it('returns undefined for a partition without bundles', async () => {
        const r = reader({ tp: { topic: TOPIC, partition: 7 } });
        expect(await r.next()).toBeUndefined();
        expect(reports()).toEqual([]);
      });
    });

    describe("a backup by id (fromOffset, the manifest's objects)", () => {
      const sha = async (key: string) => (await local.head(location.bucket, full(key)))!.metadata['coldstore-body-sha256']!;

      it('restores only offsets from fromOffset to untilOffset, never fetching bundles before it', async () => {
        const { bundles } = await drain(reader({ fromOffset: 6n, untilOffset: 16n }));
        expect(offsetsOf(bundles)).toEqual([6, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
        expect(store.gets).not.toContain(full(K.b0));
      });

      it('reads exactly the listed objects, not what the partition holds besides', async () => {
        const objects = [
          { key: K.b1, sha256: await sha(K.b1) },
          { key: K.b2, sha256: await sha(K.b2) },
        ];
        const { bundles } = await drain(reader({ objects }));
        expect(bundles).toEqual([EXPECTED[1], EXPECTED[2]]);
        expect(reports()).toEqual([]);
      });

      it('resumes after the last restored object of the list', async () => {
        const objects = await Promise.all([K.b1, K.b2, K.b3].map(async (key) => ({ key, sha256: await sha(key) })));
        const { bundles } = await drain(reader({ objects, resume: { key: K.b2, offset: 12n } }));
        expect(bundles).toEqual([[full(K.b2), [13, 14]], EXPECTED[3]]);
      });

      it("reports a bundle whose bytes differ from the manifest's checksum, even when its own metadata agrees", async () => {
        const { container, metadata } = encodeKafkaBundle(
          K.b2,
          10n,
          14n,
          [10, 11, 12, 13].map((o) => rec(o)),
        );
        await replace(K.b2, gzipSync(container), metadata);
        const objects = [{ key: K.b2, sha256: 'ab'.repeat(32) }];
        await drain(reader({ objects }));
        expect(reports()).toEqual([['checksum', full(K.b2)]]);
        expect(bad[0]!.message).toMatch(/manifest/);
      });
    });

    describe('resume', () => {
      it('mid-bundle: only the later records of that bundle, then the following bundles', async () => {
        const { bundles } = await drain(reader({ resume: { key: K.b1, offset: 6n } }));
        expect(bundles).toEqual([[full(K.b1), [8, 9]], EXPECTED[2], EXPECTED[3]]);
        expect(reports()).toEqual([]);
      });

      it('at a record in a hole of the bundle: the records after it', async () => {
        const { bundles } = await drain(reader({ resume: { key: K.b1, offset: 7n } }));
        expect(offsetsOf(bundles)).toEqual([8, 9, ...CONTENT.b2, ...CONTENT.b3]);
      });

      it("at the end of a bundle's range: the following bundles, without re-reading it", async () => {
        const { bundles } = await drain(reader({ resume: { key: K.b1, offset: 9n } }));
        expect(bundles).toEqual([EXPECTED[2], EXPECTED[3]]);
        expect(store.gets).not.toContain(full(K.b1));
        expect(reports()).toEqual([]);
      });

      it('at the first record of the first bundle', async () => {
        const { bundles } = await drain(reader({ resume: { key: K.b0, offset: 0n } }));
        expect(offsetsOf(bundles)).toEqual(ALL.filter((o) => o > 0));
      });

      it('after the last record of the last bundle: nothing is returned again', async () => {
        const { bundles } = await drain(reader({ resume: { key: K.b3, offset: 17n } }));
        expect(offsetsOf(bundles)).toEqual([]);
        expect(reports()).toEqual([]);
      });
    });

    describe('untilOffset', () => {
      it('stops at the bundle holding the offset and drops later records of it', async () => {
        const { bundles } = await drain(reader({ untilOffset: 11n }));
        expect(bundles).toEqual([EXPECTED[0], EXPECTED[1], [full(K.b2), [10, 11]]]);
        // b3 starts after 11: never fetched.
        expect(store.gets).not.toContain(full(K.b3));
      });

      it('at the end of a bundle: that bundle whole, nothing after', async () => {
        const { bundles } = await drain(reader({ untilOffset: 4n }));
        expect(bundles).toEqual([EXPECTED[0]]);
        expect(store.gets).toEqual([full(K.b0)]);
      });

      it('in a hole: the records before it', async () => {
        const { bundles } = await drain(reader({ untilOffset: 7n }));
        expect(offsetsOf(bundles)).toEqual([0, 1, 2, 3, 4, 5, 6]);
      });

      it('with a resume point', async () => {
        const { bundles } = await drain(reader({ resume: { key: K.b1, offset: 5n }, untilOffset: 12n }));
        expect(offsetsOf(bundles)).toEqual([6, 8, 9, 10, 11, 12]);
      });

      it('before the first bundle: nothing', async () => {
        const local2 = tmpDir('restore-reader-late');
        try {
          // A partition whose backup starts at 100 (older records were deleted by retention).
          const late = new LocalObjectStore(local2);
          await late.ensureBucket(location.bucket);
          const key = kafkaBundleKey(TOPIC, PARTITION, 100n, 104n);
          const { container, metadata } = encodeKafkaBundle(key, 100n, 104n, [rec(100), rec(104)]);
          await late.putIfAbsent(location.bucket, full(key), gzipSync(container), metadata);
          const r = new PartitionReader({
            store: late,
            location,
            tp: { topic: TOPIC, partition: PARTITION },
            fetchAhead: 2,
            untilOffset: 50n,
            onBadObject: (e) => bad.push(e),
          });
          expect(await r.next()).toBeUndefined();
          // Without a limit, the late start is not a gap.
          const all = await drain(
            new PartitionReader({ store: late, location, tp: { topic: TOPIC, partition: PARTITION }, fetchAhead: 2, onBadObject: (e) => bad.push(e) }),
          );
          expect(all.bundles).toEqual([[full(key), [100, 104]]]);
          expect(reports()).toEqual([]);
        } finally {
          rmSync(local2, { recursive: true, force: true });
        }
      });
    });

    describe('bad objects', () => {
      /** Reads everything; the bad b1 is reported once and skipped, the rest comes through. */
      async function expectSkipped(kind: BadObjectError['kind'], key = K.b1): Promise<BadObjectError> {
        const { bundles, errors } = await drain(reader());
        expect(errors).toEqual([]);
        expect(bundles).toEqual(EXPECTED.filter(([k]) => k !== full(key)));
        expect(reports()).toEqual([[kind, full(key)]]);
        const err = bad[0]!;
        expect(err).toBeInstanceOf(BadObjectError);
        expect(err.message).toContain(full(key));
        return err;
      }

      it('corrupt gzip bytes', async () => {
        const { metadata } = encodeKafkaBundle(
          K.b1,
          5n,
          9n,
          CONTENT.b1.map((o) => rec(o)),
        );
        await replace(K.b1, randomBytes(200), metadata);
        const err = await expectSkipped('corrupt-gzip');
        expect(err.range).toEqual({ start: 5n, end: 9n });
      });

      it('gzip with the magic bytes but a damaged stream', async () => {
        const { container, metadata } = encodeKafkaBundle(
          K.b1,
          5n,
          9n,
          CONTENT.b1.map((o) => rec(o)),
        );
        const gz = gzipSync(container);
        await replace(K.b1, gz.subarray(0, gz.length - 12), metadata);
        await expectSkipped('corrupt-gzip');
      });

      it('a valid gzip whose sha256 metadata does not match (checksum)', async () => {
        const { container, metadata } = encodeKafkaBundle(
          K.b1,
          5n,
          9n,
          CONTENT.b1.map((o) => rec(o)),
        );
        const changed = Buffer.from(container);
        const at = changed.indexOf(Buffer.from('value-8'));
        expect(at).toBeGreaterThan(0);
        changed[at + 6] = '7'.charCodeAt(0); // value-8 → value-7: still decodable, other bytes
        await replace(K.b1, gzipSync(changed), metadata);
        const err = await expectSkipped('checksum');
        expect(err.message).toContain(metadata['coldstore-body-sha256']);
      });

      it('a missing sha256 is a checksum failure too', async () => {
        const { container, metadata } = encodeKafkaBundle(
          K.b1,
          5n,
          9n,
          CONTENT.b1.map((o) => rec(o)),
        );
        const { ['coldstore-body-sha256']: _dropped, ...rest } = metadata;
        expect(_dropped).toBeDefined();
        await replace(K.b1, gzipSync(container), rest);
        await expectSkipped('checksum');
      });

      it('a truncated Avro container whose sha256 matches (truncated)', async () => {
        const { container, metadata } = encodeKafkaBundle(
          K.b1,
          5n,
          9n,
          CONTENT.b1.map((o) => rec(o)),
        );
        const cut = container.subarray(0, container.length - 10);
        await replace(K.b1, gzipSync(cut), { ...metadata, 'coldstore-body-sha256': createHash('sha256').update(cut).digest('hex') });
        await expectSkipped('truncated');
      });

      it('an object with another format in its metadata (foreign)', async () => {
        await replace(K.b1, Buffer.from('{"hello":"world"}'), { 'coldstore-format': 'json-v1' });
        await expectSkipped('foreign');
      });

      it('an object without metadata (foreign)', async () => {
        await replace(K.b1, Buffer.from('plain file'), {});
        await expectSkipped('foreign');
      });

      it("records outside the key's partition (inconsistent)", async () => {
        const { container, metadata } = encodeKafkaBundle(
          K.b1,
          5n,
          9n,
          CONTENT.b1.map((o) => rec(o, 2)),
        );
        await replace(K.b1, gzipSync(container), metadata);
        await expectSkipped('inconsistent');
      });

      it("records outside the key's range (inconsistent)", async () => {
        const { container, metadata } = encodeKafkaBundle(K.b1, 5n, 9n, [rec(5), rec(6), rec(10)]);
        await replace(K.b1, gzipSync(container), metadata);
        await expectSkipped('inconsistent');
      });

      it("records before the key's range start (inconsistent)", async () => {
        const { container, metadata } = encodeKafkaBundle(K.b1, 5n, 9n, [rec(4), rec(5), rec(6)]);
        await replace(K.b1, gzipSync(container), metadata);
        await expectSkipped('inconsistent');
      });

      it('records out of offset order or repeated (inconsistent)', async () => {
        const { container, metadata } = encodeKafkaBundle(K.b1, 5n, 9n, [rec(5), rec(8), rec(6)]);
        await replace(K.b1, gzipSync(container), metadata);
        await expectSkipped('inconsistent');
        bad = [];
        const twice = encodeKafkaBundle(K.b1, 5n, 9n, [rec(5), rec(6), rec(6)]);
        await replace(K.b1, gzipSync(twice.container), twice.metadata);
        await expectSkipped('inconsistent');
      });

      it('an object that disappears between listing and reading (missing)', async () => {
        store.getFaults.set(full(K.b1), 'missing');
        await expectSkipped('missing');
      });

      it('keys under the partition prefix that are not bundle keys of this partition (foreign), without disturbing coverage', async () => {
        const notes = `${TOPIC}/${PARTITION}/notes.txt`;
        // Parses as a bundle of topic "t/1", partition 9: not this partition.
        const nested = `${TOPIC}/${PARTITION}/9/${kafkaBundleKey('x', 0, 0n, 1n).split('/')[2]}`;
        const tmpLike = `${K.b1}.bak`;
        for (const key of [notes, nested, tmpLike]) await local.putIfAbsent(location.bucket, full(key), Buffer.from('x'), {});
        const { bundles } = await drain(reader());
        expect(bundles).toEqual(EXPECTED);
        expect(reports().sort()).toEqual([notes, nested, tmpLike].map((k) => ['foreign', full(k)]).sort());
        // They were never read.
        for (const key of [notes, nested, tmpLike]) expect(store.gets).not.toContain(full(key));
      });

      it('a gap between bundles is reported and the bundle after it still returned', async () => {
        await local.delete(location.bucket, full(K.b1));
        const { bundles } = await drain(reader());
        expect(bundles).toEqual([EXPECTED[0], EXPECTED[2], EXPECTED[3]]);
        expect(reports()).toEqual([['gap', full(K.b2)]]);
        expect(bad[0]?.message).toMatch(/5\.\.9/);
      });

      it('a gap right after the resume point is reported', async () => {
        await local.delete(location.bucket, full(K.b2));
        const { bundles } = await drain(reader({ resume: { key: K.b1, offset: 9n } }));
        expect(bundles).toEqual([EXPECTED[3]]);
        expect(reports()).toEqual([['gap', full(K.b3)]]);
      });

      it('several bad objects in a row: each reported once, coverage continues after them', async () => {
        await replace(K.b1, randomBytes(50), { 'coldstore-format': 'kafka-v1' });
        await replace(K.b2, Buffer.from('x'), { 'coldstore-format': 'other' });
        const { bundles } = await drain(reader());
        expect(bundles).toEqual([EXPECTED[0], EXPECTED[3]]);
        expect(reports()).toEqual([
          ['corrupt-gzip', full(K.b1)],
          ['foreign', full(K.b2)],
        ]);
      });

      it('a bad resume bundle is reported and the following bundles returned', async () => {
        await replace(K.b1, randomBytes(50), { 'coldstore-format': 'kafka-v1' });
        const { bundles } = await drain(reader({ resume: { key: K.b1, offset: 6n } }));
        expect(bundles).toEqual([EXPECTED[2], EXPECTED[3]]);
        expect(reports()).toEqual([['corrupt-gzip', full(K.b1)]]);
      });

      it('an onBadObject that throws makes next() reject with its error', async () => {
        await replace(K.b1, randomBytes(50), { 'coldstore-format': 'kafka-v1' });
        const failure = new Error('on.bad.object=fail');
        const r = reader({
          onBadObject: (err) => {
            bad.push(err);
            throw failure;
          },
        });
        expect((await r.next())?.key).toBe(full(K.b0));
        const rejected = await r.next().then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(rejected).toBe(failure);
        expect(rejected).not.toBeInstanceOf(RetriableError);
        expect(reports()).toEqual([['corrupt-gzip', full(K.b1)]]);
      });

      it('an onBadObject that throws on a foreign key or a gap makes next() reject', async () => {
        await local.putIfAbsent(location.bucket, full(`${TOPIC}/${PARTITION}/garbage`), Buffer.from('x'), {});
        const failing = reader({
          fetchAhead: 64,
          onBadObject: (err) => {
            throw new Error(`fail: ${err.kind}`);
          },
        });
        await expect(drain(failing)).rejects.toThrow('fail: foreign');

        await local.delete(location.bucket, full(`${TOPIC}/${PARTITION}/garbage`));
        await local.delete(location.bucket, full(K.b2));
        const gapFailing = reader({
          onBadObject: (err) => {
            throw new Error(`fail: ${err.kind} ${err.key}`);
          },
        });
        expect((await gapFailing.next())?.key).toBe(full(K.b0));
        expect((await gapFailing.next())?.key).toBe(full(K.b1));
        await expect(gapFailing.next()).rejects.toThrow(`fail: gap ${full(K.b3)}`);
      });
    });

    describe('transient store errors', () => {
      for (const fetchAhead of [1, 2, 4]) {
        for (const failing of ['b0', 'b1', 'b2', 'b3'] as const) {
          it(`get of ${failing} failing once (fetchAhead ${fetchAhead}): one RetriableError, then the same bundles, none skipped or repeated`, async () => {
            store.getFaults.set(full(K[failing]), 'transient');
            const { bundles, errors } = await drain(reader({ fetchAhead }));
            expect(errors).toHaveLength(1);
            expect(errors[0]).toBeInstanceOf(RetriableError);
            expect((errors[0] as Error).cause).toBeInstanceOf(TransientStoreError);
            expect((errors[0] as Error).message).toContain(`${TOPIC}/${PARTITION}`);
            expect(bundles).toEqual(EXPECTED);
            expect(reports()).toEqual([]);
          });
        }
      }

      it('next() rejects right when the failed bundle is due, not earlier', async () => {
        store.getFaults.set(full(K.b2), 'transient');
        const r = reader({ fetchAhead: 2 });
        expect((await r.next())?.key).toBe(full(K.b0));
        expect((await r.next())?.key).toBe(full(K.b1));
        await expect(r.next()).rejects.toBeInstanceOf(RetriableError);
        expect((await r.next())?.key).toBe(full(K.b2));
        expect((await r.next())?.key).toBe(full(K.b3));
        expect(await r.next()).toBeUndefined();
      });

      it('a listing failing midway: one RetriableError, then the same bundles', async () => {
        store.listFailsAfter = 2;
        const { bundles, errors } = await drain(reader({ fetchAhead: 1 }));
        expect(errors.length).toBe(1);
        expect(errors[0]).toBeInstanceOf(RetriableError);
        expect(bundles).toEqual(EXPECTED);
        expect(reports()).toEqual([]);
      });

      it('with a resume point and a later bundle failing once', async () => {
        store.getFaults.set(full(K.b2), 'transient');
        const { bundles, errors } = await drain(reader({ resume: { key: K.b1, offset: 6n } }));
        expect(errors).toHaveLength(1);
        expect(bundles).toEqual([[full(K.b1), [8, 9]], EXPECTED[2], EXPECTED[3]]);
      });

      it('with the resume bundle itself failing once: its remaining records are still returned', async () => {
        store.getFaults.set(full(K.b1), 'transient');
        const { bundles, errors } = await drain(reader({ resume: { key: K.b1, offset: 6n } }));
        expect(errors).toHaveLength(1);
        expect(errors[0]).toBeInstanceOf(RetriableError);
        expect(offsetsOf(bundles)).toEqual([8, 9, ...CONTENT.b2, ...CONTENT.b3]);
        expect(reports()).toEqual([]);
      });

      it('after a skipped bad object, a transient failure neither re-reports it nor reports a gap', async () => {
        await replace(K.b1, randomBytes(50), { 'coldstore-format': 'kafka-v1' });
        store.getFaults.set(full(K.b2), 'transient');
        const { bundles, errors } = await drain(reader({ fetchAhead: 1 }));
        expect(errors).toHaveLength(1);
        expect(bundles).toEqual([EXPECTED[0], EXPECTED[2], EXPECTED[3]]);
        expect(reports()).toEqual([['corrupt-gzip', full(K.b1)]]);
      });
    });

    describe('fetchBundle', () => {
      it('reads one bundle by its key and range', async () => {
        const bundle = await fetchBundle(store, location, { key: K.b2, topic: TOPIC, partition: PARTITION, start: 10n, end: 14n });
        expect(shape(bundle)).toEqual(EXPECTED[2]);
        expect(bundle.bytes).toBe((await local.head(location.bucket, full(K.b2)))?.size);
      });

      it('rejects records that do not belong to the range it is asked for', async () => {
        // b2's records (10..14) read as if the key said 10..12.
        const err = await fetchBundle(store, location, { key: K.b2, topic: TOPIC, partition: PARTITION, start: 10n, end: 12n }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(BadObjectError);
        expect((err as BadObjectError).kind).toBe('inconsistent');
        expect((err as BadObjectError).key).toBe(full(K.b2));
      });

      it('lets a transient store error through as it is', async () => {
        store.getFaults.set(full(K.b0), 'transient');
        await expect(fetchBundle(store, location, { key: K.b0, topic: TOPIC, partition: PARTITION, start: 0n, end: 4n })).rejects.toBeInstanceOf(
          TransientStoreError,
        );
      });
    });
  });
}
