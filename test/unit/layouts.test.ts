// connectors/layouts/: BackupLocation's keys and listings, what each Layout makes of a
// listed key, and the one checked reader of kafka-v1 bundles with its defect kinds, as
// the restore (fetchBundle) and verify see them.
import { rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { azulLayout } from '../../connectors/layouts/azul/layout.js';
import { encodeKafkaBundle } from '../../connectors/layouts/kafka-v1/bundle-codec.js';
import { kafkaBundleKey } from '../../connectors/layouts/kafka-v1/bundle-keys.js';
import { readKafkaBundle } from '../../connectors/layouts/kafka-v1/checked-reader.js';
import { kafkaLayout } from '../../connectors/layouts/kafka-v1/layout.js';
import { LAYOUT_NAMES, layoutNamed } from '../../connectors/layouts/layouts.js';
import { MetadataName } from '../../connectors/layouts/metadata-names.js';
import { ObjectDefect } from '../../connectors/layouts/object-defect.js';
import { fetchBundle } from '../../connectors/restore-source/bundle-fetch.js';
import { BadObjectError } from '../../connectors/restore-source/bad-object.js';
import { BackupLocation, eventsLocation, type BackupLocationSettings } from '../../connectors/common/backup-location.js';
import { LocalObjectStore } from '../../connectors/common/object-store/local-object-store.js';
import { fixtureRecord } from '../helpers/backup-fixture.js';
import { tmpDir } from '../helpers/tmp.js';

const TOPIC = 'orders';
const KEY = kafkaBundleKey(TOPIC, 0, 0n, 4n);

describe('BackupLocation', () => {
  let root: string;
  let store: LocalObjectStore;
  beforeEach(() => {
    root = tmpDir('layouts');
    store = new LocalObjectStore(root);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('adds and takes off a shared bucket prefix in one place, and lists by relative key', async () => {
    const location = eventsLocation({ 'bucket.shared': 'shared', 'bucket.prefix': 'coldstore-', 'backup.label': 'x' } as BackupLocationSettings);
    expect(location).toMatchObject({ bucket: 'shared', prefix: 'events/' });
    expect(location.key('a/1')).toBe('events/a/1');
    expect(location.relative('events/a/1')).toBe('a/1');
    await store.ensureBucket('shared');
    for (const key of ['events/a/1', 'events/a/2', 'events/b/1', 'streams/a/1']) await store.put('shared', key, Buffer.from(key), {});
    const listed = [];
    for await (const item of location.list(store, 'a/', 'a/1')) listed.push([item.key, item.fullKey]);
    expect(listed).toEqual([['a/2', 'events/a/2']]);
    expect(await location.listDirectories(store)).toEqual(['a', 'b']);
  });

  it('accepts a plain {bucket, prefix}', () => {
    const location = BackupLocation.of({ bucket: 'b', prefix: '' });
    expect(location.key('k')).toBe('k');
    expect(BackupLocation.of(location)).toBe(location);
  });
});

describe('Layout', () => {
  it('is chosen by its name, once per name', () => {
    expect(LAYOUT_NAMES).toEqual(['kafka', 'azul']);
    expect(layoutNamed('kafka')).toBe(kafkaLayout);
    expect(layoutNamed('azul')).toBe(azulLayout);
    expect(kafkaLayout.ranges.format).toBe('kafka-v1');
    expect(azulLayout.ranges.format).toBe('azul-index-v1');
  });

  it('kafka: bundles by their key, coldstore’s own objects, anything else foreign', () => {
    expect(kafkaLayout.classify(KEY)).toEqual({ kind: 'bundle', named: { topic: TOPIC, partition: 0, start: 0n, end: 4n } });
    expect(kafkaLayout.classify('~coldstore/topics/orders.json')).toEqual({ kind: 'own' });
    expect(kafkaLayout.classify('orders/00/whatever')).toEqual({ kind: 'foreign' });
    expect(kafkaLayout.topicPrefixes(TOPIC)).toEqual(['orders/']);
  });

  it('azul: event bundles by their metadata, rejects by their key', () => {
    expect(azulLayout.classify('src/binary/sourced/2023-11-14T22:13:21Z-3-abc')).toEqual({ kind: 'bundle-by-metadata' });
    expect(azulLayout.classify(`~coldstore/azul-rejects/${KEY}`)).toEqual({ kind: 'bundle', named: { topic: TOPIC, partition: 0, start: 0n, end: 4n } });
    expect(azulLayout.classify('~coldstore/azul-rejects/nope')).toEqual({ kind: 'foreign' });
    expect(azulLayout.classify('~coldstore/azul-index/x/0/1-2.json')).toEqual({ kind: 'own' });
    expect(azulLayout.topicPrefixes('azul.p.src.binary.sourced')).toEqual(['src/binary/sourced/', '~coldstore/azul-rejects/azul.p.src.binary.sourced/']);
    expect(azulLayout.topicPrefixes('orders')).toEqual([]);
  });
});

describe('the checked kafka-v1 reader', () => {
  let root: string;
  let store: LocalObjectStore;
  const location = { bucket: 'events', prefix: '' };
  const claim = { key: KEY, topic: TOPIC, partition: 0, start: 0n, end: 4n };
  beforeEach(async () => {
    root = tmpDir('layouts-reader');
    store = new LocalObjectStore(root);
    await store.ensureBucket('events');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  async function write(metadata: (m: Record<string, string>) => Record<string, string> = (m) => m, body?: Buffer): Promise<void> {
    const encoded = encodeKafkaBundle(
      KEY,
      0n,
      4n,
      [0, 1, 2, 3, 4].map((o) => fixtureRecord(TOPIC, 0, o)),
    );
    await store.put('events', KEY, body ?? gzipSync(encoded.container), metadata(encoded.metadata));
  }

  const defectOf = (work: Promise<unknown>) =>
    work.then(
      () => undefined,
      (err: unknown) => err,
    );

  it('reads a bundle that checks out', async () => {
    await write();
    const read = await readKafkaBundle(store, location, claim, { metadataAgrees: true });
    expect(read.records.map((r) => r.offset)).toEqual([0n, 1n, 2n, 3n, 4n]);
  });

  it('names each defect by one kind; the restore words a foreign object its own way', async () => {
    expect(await defectOf(readKafkaBundle(store, location, claim, { metadataAgrees: true }))).toMatchObject({ kind: 'missing' });
    await write((m) => ({ ...m, [MetadataName.format]: 'other' }));
    const foreign = await defectOf(readKafkaBundle(store, location, claim, { metadataAgrees: true }));
    expect(foreign).toBeInstanceOf(ObjectDefect);
    expect(foreign).toMatchObject({ kind: 'foreign', found: { format: 'other' } });
    const restored = await defectOf(fetchBundle(store, location, claim));
    expect(restored).toBeInstanceOf(BadObjectError);
    expect((restored as BadObjectError).message).toBe(
      `foreign: ${KEY}: not a coldstore kafka-v1 bundle (format other); remove it or skip it with on.bad.object=skip`,
    );
    await write((m) => ({ ...m, [MetadataName.records]: '9' }));
    expect(await defectOf(readKafkaBundle(store, location, claim, { metadataAgrees: true }))).toMatchObject({ kind: 'inconsistent' });
    // The restore reads the records, not the metadata's counts.
    expect((await fetchBundle(store, location, claim)).records).toHaveLength(5);
    await write(undefined, Buffer.from('not gzip'));
    expect(await defectOf(fetchBundle(store, location, claim))).toMatchObject({ kind: 'corrupt-gzip' });
  });
});
