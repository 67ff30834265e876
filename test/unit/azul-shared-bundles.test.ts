// Issue 17: ranges of identical (re-sent) events share one event bundle, a different bulk
// wanting a taken key goes under a key its bytes name, in the order the ranges' writes
// began (not the order their PUTs land), verify passes on such a backup and still catches
// a wrong or foreign object, and a stream the dispatcher answered 404 is listed and stored
// once the dispatcher has it. The real writer over a LocalObjectStore.
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BundleUploader } from '../../connectors/backup-sink/bundle-uploader.js';
import { LocalObjectStore } from '../../connectors/common/object-store/local-object-store.js';
import { describeBackup, verifyBackup } from '../../connectors/common/verify/index.js';
import { assembleBulk } from '../../connectors/layouts/azul/bulk.js';
import { streamKey } from '../../connectors/layouts/azul/keys.js';
import { streamMissingPrefix, type AzulIndexEntry } from '../../connectors/layouts/azul/objects.js';
import { AZUL_MODEL_VERSION } from '../../connectors/layouts/azul/registry.js';
import {
  binary,
  BINARY_TOPIC,
  DELETE_TOPIC,
  ignoredMetrics,
  MemoryDispatcher,
  quietLog,
  record,
  testArchiver,
  writeAzulFixture,
  type WrittenAzulFixture,
} from '../helpers/azul-verify-fixture.js';
import { vectorEvents } from '../helpers/azul-vectors.js';
import { tmpDir } from '../helpers/tmp.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const events = { bucket: 'coldstore-shared-events', prefix: '' };
const streams = { bucket: 'coldstore-shared-streams', prefix: '' };

describe('azul layout: identical ranges share one object, keys follow offsets, verify passes', () => {
  let dir: string;
  let store: LocalObjectStore;
  let dispatcher: MemoryDispatcher;
  let fixture: WrittenAzulFixture;

  beforeEach(async () => {
    dir = tmpDir('azul-shared');
    store = new LocalObjectStore(dir);
    dispatcher = new MemoryDispatcher();
    fixture = await writeAzulFixture(store, events, streams, dispatcher);
  });
  afterEach(() => {
    fixture.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const deletes = () => vectorEvents('delete').map((v) => v.bytes);
  const keys = async (prefix: string) => {
    const found: string[] = [];
    for await (const { key } of store.list(events.bucket, prefix)) found.push(key);
    return found;
  };

  it('ranges of the same re-sent events, in one partition and in another, are one object every entry names; verify and ls agree', async () => {
    // The fixture wrote the delete vectors at DELETE_TOPIC/0 10..13; now twice more in partition 1.
    const copy = (partition: number, start: number) => deletes().map((v, i) => record(DELETE_TOPIC, partition, start + i, v));
    const again = [await fixture.writeRange(copy(1, 0)), await fixture.writeRange(copy(1, 4))];
    const first = fixture.ranges.at(-1)!;
    const bundles = await keys('system/delete/default/');
    expect(bundles).toEqual([first.entry.bundle!.key]);
    expect(again.map((r) => r.entry.bundle)).toEqual([first.entry.bundle, first.entry.bundle]);
    const object = (await store.get(events.bucket, bundles[0]!))!;
    expect(object.metadata).toEqual({
      'coldstore-format': 'azul-v6',
      'coldstore-body-sha256': first.entry.bundle!.sha256,
      'coldstore-record-count': String(deletes().length),
    });

    const report = await verifyBackup({ store, location: events, streams });
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    // Each range's events count once per range: the index proves every offset.
    expect(report.records).toBe(fixture.events + fixture.rejects + 2 * deletes().length);

    const ls = await describeBackup({ store, location: events, objects: true });
    const partitions = ls.topics.find((t) => t.topic === DELETE_TOPIC)!.partitions;
    expect(partitions.map((p) => [p.partition, p.objects, p.records, p.firstOffset, p.lastOffset])).toEqual([
      [0, 1, 4, 10, 13],
      [1, 1, 8, 0, 7],
    ]);
    expect(partitions[1]!.bundles!.map((b) => [b.key, b.rangeStart, b.rangeEnd])).toEqual([
      [bundles[0], 0, 3],
      [bundles[0], 4, 7],
    ]);
    expect(ls.foreignObjects).toBe(0);
  });

  it('a different bulk wanting a taken key gets the key plus its sha256, by the order the writes began, however the PUTs land', async () => {
    // Two ranges ending with the same event, count and timestamp, different events before it.
    const last = binary(50, []);
    let release!: () => void;
    const slow = dispatcher.add('content', Buffer.from('a blob the first range waits for'));
    dispatcher.holds.set(streamKey(slow), new Promise<void>((r) => (release = r)));
    const r1 = fixture.writeRange([record(BINARY_TOPIC, 2, 0, binary(40, [slow])), record(BINARY_TOPIC, 2, 1, last)]);
    const r2 = fixture.writeRange([record(BINARY_TOPIC, 2, 2, binary(41, [])), record(BINARY_TOPIC, 2, 3, last)]);
    // The second range has nothing to wait for, yet it must not take the key: let it get as far as it can.
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    release();
    const [first, second] = await Promise.all([r1, r2]);
    const plain = `src/binary/sourced/2023-11-14T22:13:20.00005Z-2-k50`;
    expect(first.entry.bundle!.key).toBe(plain);
    const bulk = assembleBulk(AZUL_MODEL_VERSION, [binary(41, []), last]);
    expect(second.entry.bundle!.key).toBe(`${plain}~${sha256(bulk).slice(0, 16)}`);
    expect(gunzipSync((await store.get(events.bucket, second.entry.bundle!.key))!.body).equals(bulk)).toBe(true);
    expect((await verifyBackup({ store, location: events, streams })).problems).toEqual([]);
  });

  it('verify still catches an entry whose range holds other events than the shared object, and a foreign object an entry names', async () => {
    const copy = (start: number) => deletes().map((v, i) => record(DELETE_TOPIC, 1, start + i, v));
    await fixture.writeRange(copy(0));
    const wrong = await fixture.writeRange(copy(4));
    const key = wrong.entry.bundle!.key;
    // The second entry says its range held two events of another bulk: the shared object does not hold them.
    const other = assembleBulk(AZUL_MODEL_VERSION, deletes().slice(0, 2));
    const entryBody = Buffer.from(JSON.stringify({ ...wrong.entry, bundle: { key, events: 2, sha256: sha256(other) } } satisfies AzulIndexEntry));
    const entryObject = (await store.get(events.bucket, wrong.indexKey))!;
    await store.put(events.bucket, wrong.indexKey, entryBody, { ...entryObject.metadata, 'coldstore-body-sha256': sha256(entryBody) });
    const report = await verifyBackup({ store, location: events, streams });
    expect(report.problems.map((p) => [p.kind, p.key, p.partition])).toEqual([['checksum', key, 1]]);
    expect(report.problems[0]!.message).toContain('its index entry says');

    // The object replaced by the same bytes without coldstore's metadata (e.g. the Azul service's own upload).
    const object = (await store.get(events.bucket, key))!;
    await store.put(events.bucket, key, gzipSync(gunzipSync(object.body)), {});
    const foreign = await verifyBackup({ store, location: events, streams });
    expect(new Set(foreign.problems.map((p) => `${p.kind} ${p.key}`))).toEqual(new Set([`foreign ${key}`]));
    expect(foreign.problems).toHaveLength(3);
    expect(foreign.problems[0]!.message).toContain('not written by coldstore');
  });
});

describe('azul layout: streams the dispatcher answered 404', () => {
  it('are listed in the missing list, asked for again, and stored once the dispatcher has them', async () => {
    const dir = tmpDir('azul-missing');
    const store = new LocalObjectStore(dir);
    const dispatcher = new MemoryDispatcher();
    const uploader = new BundleUploader({
      store,
      location: streams,
      gzipLevel: 1,
      permanentErrorRetries: 0,
      log: quietLog,
      metrics: ignoredMetrics,
      stopped: () => false,
    });
    const archiver = testArchiver({ dispatcher, uploader });
    const blob = Buffer.from('a blob the dispatcher gets after its event');
    const ref = { source: 'src', label: 'content', sha256: sha256(blob) };
    expect(await archiver.archive([ref])).toEqual(['missing']);
    const listed = async () => {
      const found: string[] = [];
      for await (const { key } of store.list(streams.bucket, streamMissingPrefix('fixture'))) found.push(key);
      return found;
    };
    expect(await listed()).toEqual([`${streamMissingPrefix('fixture')}${ref.sha256}.src.content.json`]);
    expect(await archiver.countMissing()).toBe(1);
    expect(await archiver.retryMissing()).toBe(1);
    expect(await store.head(streams.bucket, streamKey(ref))).toBeUndefined();

    dispatcher.blobs.set(streamKey(ref), blob);
    expect(await archiver.retryMissing()).toBe(0);
    expect(await listed()).toEqual([]);
    expect(archiver.recovered).toBe(1);
    expect(gunzipSync((await store.get(streams.bucket, streamKey(ref)))!.body).equals(blob)).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });
});
