/**
 * The azul coverage checker (proveAzulBackup), shared by the azul fault suites and the
 * integration test of re-sent events: against what a plain consumer reads from the
 * broker, it proves events, rejects and blobs exactly once under the layout's rules.
 */
import { gunzipSync } from 'node:zlib';
import { splitBulk } from '../../connectors/layouts/azul/bulk.js';
import { collisionBundleKey } from '../../connectors/layouts/azul/keys.js';
import { AZUL_INDEX_PREFIX, AZUL_REJECTS_PREFIX, parseAzulIndexKey, type AzulIndexEntry } from '../../connectors/layouts/azul/objects.js';
import { LocalObjectStore } from '../../connectors/common/object-store/local-object-store.js';
import type { AzulModel } from '../../connectors/layouts/azul/registry.js';
import { sha256 } from '../helpers/azul-backup.js';
import { readPartitions, type BrokerRecord } from '../helpers/broker-records.js';
import { fetchObjects, listKeys, s3Client, type FetchedObject } from '../helpers/s3.js';
import { coverageProblems, proveExactlyOnce, recordDifferences, type ExactlyOnceReport } from './fault-kit.js';

/** Values of invalid records start with this (the others are tombstones). */
export const GARBAGE = Buffer.from('not an azul event: ');
export const isEvent = (r: { value: Buffer | null }) => r.value !== null && !r.value.subarray(0, GARBAGE.length).equals(GARBAGE);

export interface TopicSpec {
  name: string;
  partitions: number;
  model: AzulModel;
  /** `<source>/<model>/<action>/`: where its event bundles go. */
  bundlePrefix: string;
}

/** Reads a backup's buckets back: on the test S3 server, or in a local store's directory. */
export interface BucketReader {
  keys(bucket: string, prefix?: string): Promise<string[]>;
  objects(bucket: string, wanted?: (key: string) => boolean): Promise<FetchedObject[]>;
}

export const s3Reader: BucketReader = {
  keys: (bucket, prefix) => listKeys(s3Client(), bucket, prefix),
  objects: (bucket, wanted) => fetchObjects(s3Client(), bucket, '', wanted),
};

export function localReader(root: string): BucketReader {
  const store = new LocalObjectStore(root);
  const keys = async (bucket: string, prefix = '') => {
    const found: string[] = [];
    for await (const { key } of store.list(bucket, prefix)) found.push(key);
    return found;
  };
  return {
    keys,
    objects: async (bucket, wanted = () => true) =>
      Promise.all((await keys(bucket)).filter(wanted).map(async (key) => ({ key, ...(await store.get(bucket, key))! }))),
  };
}

/** `records`: source records checked; `lost`, `duplicated`, `mismatched` count events, invalid records and blobs. */
export interface AzulReport extends ExactlyOnceReport {
  /** Index entries. */
  ranges: number;
  events: number;
  rejects: number;
  /** Blobs in the streams bucket. */
  streams: number;
  /** Bundles stored under `<key>~<sha256 prefix>` because another bulk ended with the same (re-sent) event, count and timestamp. */
  renamed: number;
  /** Ranges whose bundle another range of the same events already stored (named by both index entries). */
  shared: number;
}

export type Losses = Pick<ExactlyOnceReport, 'lost' | 'duplicated' | 'mismatched'>;

export function addLosses(into: Losses, from: Losses): void {
  into.lost += from.lost;
  into.duplicated += from.duplicated;
  into.mismatched += from.mismatched;
}

export const pad = (n: bigint) => n.toString().padStart(20, '0');

export function countBy(values: Iterable<string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const v of values) out.set(v, (out.get(v) ?? 0) + 1);
  return out;
}

/**
 * The azul coverage checker, against what a plain consumer reads from the broker: index
 * entries tile each partition from 0 to its last offset; each names a bundle holding
 * exactly the range's valid events in order (byte for byte; its sha256 and count as the
 * entry says) and a rejects bundle holding the range's other records; across all event
 * bundles every produced event is there exactly once (sha256 multisets; a bundle that
 * ranges of the same re-sent events share counts once per range); every invalid
 * record is in exactly one rejects bundle; the streams bucket holds exactly the expected
 * blobs, each gzip'd with its sha256.
 */
export function proveAzulBackup(
  topics: { spec: TopicSpec; source: BrokerRecord[] }[],
  events: FetchedObject[],
  streams: FetchedObject[],
  expectedBlobs: Map<string, Buffer>,
): AzulReport {
  const report: AzulReport = {
    ranges: 0,
    bundles: 0,
    events: 0,
    rejects: 0,
    streams: streams.length,
    renamed: 0,
    shared: 0,
    records: 0,
    lost: 0,
    duplicated: 0,
    mismatched: 0,
    problems: [],
  };
  const problem = (text: string) => report.problems.length < 30 && report.problems.push(text);
  const byKey = new Map(events.map((o) => [o.key, o]));
  /** How many index entries name each bundle. */
  const named = new Map<string, number>();
  for (const { spec, source } of topics) {
    report.records += source.length;
    const indexPrefix = `${AZUL_INDEX_PREFIX}${spec.name}/`;
    const entries = events.filter((o) => o.key.startsWith(indexPrefix));
    report.ranges += entries.length;
    const ranges = entries.map((o) => ({ object: o, range: parseAzulIndexKey(o.key) }));
    for (const { object, range } of ranges) if (!range) problem(`${object.key} is not an index key`);
    const kafkaForm = ranges.flatMap(({ range: r }) => (r ? [`${r.topic}/${r.partition}/${pad(r.start)}-${pad(r.end)}.avro.gz`] : []));
    for (const text of coverageProblems(spec.name, spec.partitions, kafkaForm, source)) problem(`index: ${text}`);

    for (const { object, range } of ranges) {
      if (!range) continue;
      const entry = JSON.parse(object.body.toString('utf8')) as AzulIndexEntry;
      if (entry.topic !== spec.name || entry.partition !== range.partition || entry.start !== String(range.start) || entry.end !== String(range.end)) {
        problem(`${object.key}: the entry says ${entry.topic}/${entry.partition} ${entry.start}-${entry.end}`);
      }
      const inRange = source.filter((r) => r.partition === range.partition && r.offset >= range.start && r.offset <= range.end);
      const valid = inRange.filter(isEvent);
      const invalid = inRange.length - valid.length;
      if (entry.bundle) named.set(entry.bundle.key, (named.get(entry.bundle.key) ?? 0) + 1);
      if (valid.length === 0) {
        if (entry.bundle) problem(`${object.key} names bundle ${entry.bundle.key} for a range without events`);
      } else {
        const bundle = entry.bundle && byKey.get(entry.bundle.key);
        if (!entry.bundle || !bundle) {
          problem(`${object.key}: its ${valid.length} events are in no bundle (it names ${entry.bundle?.key ?? 'none'})`);
        } else {
          const bulk = gunzipSync(bundle.body);
          if (sha256(bulk) !== entry.bundle.sha256 || bundle.metadata['coldstore-body-sha256'] !== entry.bundle.sha256)
            problem(`${bundle.key}: its sha256 is not the one its index entry and metadata give`);
          const held = splitBulk(spec.model, bulk).events;
          if (entry.bundle.events !== valid.length || held.length !== valid.length || held.some((e, i) => !e.equals(valid[i]!.value!))) {
            problem(
              `${bundle.key} (range ${range.partition}/${range.start}-${range.end}) holds ${held.length} events, not the range's ${valid.length} in order`,
            );
          }
        }
      }
      if ((entry.rejects?.records ?? 0) !== invalid)
        problem(`${object.key}: ${entry.rejects?.records ?? 0} rejects named, the range has ${invalid} invalid records`);
      if (entry.rejects && !byKey.has(entry.rejects.key)) problem(`${object.key} names rejects ${entry.rejects.key}, which is not in the bucket`);
    }

    // Every event exactly once across all the bundles of its group, named by an index entry or not.
    // Ranges of byte-identical (re-sent) events get the same key and bytes, so they share one
    // bundle (stored once, 'existing' the second time): it counts once per range naming it.
    const bundles = events.filter((o) => o.key.startsWith(spec.bundlePrefix));
    report.bundles += bundles.length;
    const expected = countBy(source.filter(isEvent).map((r) => sha256(r.value!)));
    const held = new Map<string, number>();
    const bulks = new Map<string, string>();
    for (const b of bundles) {
      const times = named.get(b.key) ?? 0;
      if (times === 0) problem(`${b.key} is named by no index entry`);
      report.shared += Math.max(0, times - 1);
      const bulk = gunzipSync(b.body);
      const shas = splitBulk(spec.model, bulk).events.map(sha256);
      for (const sha of shas) held.set(sha, (held.get(sha) ?? 0) + Math.max(1, times));
      // Identical bulks are one object; its metadata names no range (ranges share it).
      const bulkSha = sha256(bulk);
      if (bulks.has(bulkSha)) problem(`${b.key} holds the same bulk as ${bulks.get(bulkSha)}: identical bulks must be one object`);
      bulks.set(bulkSha, b.key);
      const metadataNames = Object.keys(b.metadata).sort();
      if (metadataNames.join() !== 'coldstore-body-sha256,coldstore-format,coldstore-record-count')
        problem(`${b.key}: its metadata is ${metadataNames.join()}, not only format, sha256 and count`);
      // `<key>~<sha256 prefix>`: another bulk with the same last event, count and timestamp holds the plain key.
      if (b.key.includes('~')) {
        report.renamed++;
        const plain = b.key.slice(0, b.key.indexOf('~'));
        const holder = byKey.get(plain);
        if (b.key !== collisionBundleKey(plain, bulkSha) || !holder || sha256(gunzipSync(holder.body)) === bulkSha)
          problem(`${b.key}: a collision key, but not its bulk's, or the plain key does not hold another bulk`);
      }
    }
    for (const [sha, n] of expected) {
      const got = held.get(sha) ?? 0;
      report.events += Math.min(got, n);
      if (got < n) report.lost += n - got;
      if (got > n) report.duplicated += got - n;
      if (got !== n) problem(`${spec.name}: an event of sha256 ${sha.slice(0, 12)}… is in ${got} bundles, produced ${n} times`);
    }
    for (const [sha, n] of held) {
      if (expected.has(sha)) continue;
      report.mismatched += n;
      problem(`${spec.name}: a bundle holds an event (sha256 ${sha.slice(0, 12)}…) that was never produced`);
    }

    // Invalid records: each in exactly one rejects bundle, byte for byte (rejects need not tile).
    const rejectsPrefix = `${AZUL_REJECTS_PREFIX}${spec.name}/`;
    const rejects = events.filter((o) => o.key.startsWith(rejectsPrefix)).map((o) => ({ ...o, key: o.key.slice(AZUL_REJECTS_PREFIX.length) }));
    const checked = proveExactlyOnce(
      spec.name,
      spec.partitions,
      rejects,
      source.filter((r) => !isEvent(r)),
      recordDifferences,
      { tiles: false },
    );
    report.rejects += checked.records;
    addLosses(report, checked);
    for (const text of checked.problems) problem(`rejects: ${text}`);
  }

  // Streams: exactly the blobs the dispatcher has, under their keys, gzip'd, with their sha256.
  const stored = new Set(streams.map((s) => s.key));
  for (const key of expectedBlobs.keys()) {
    if (stored.has(key)) continue;
    report.lost++;
    problem(`blob ${key} is not in the streams bucket`);
  }
  for (const s of streams) {
    const blob = expectedBlobs.get(s.key);
    const sha = s.key.split('/').pop()!;
    const body = gunzipSync(s.body);
    if (!blob || !body.equals(blob) || sha256(body) !== sha || s.metadata['coldstore-body-sha256'] !== sha) {
      report.mismatched++;
      problem(blob ? `streams bucket: ${s.key} does not hold the blob of that sha256` : `streams bucket: ${s.key} was not expected (a 404 blob?)`);
    }
  }
  return report;
}

/** Reads back the backup of `label` and proves it (see proveAzulBackup). */
export async function checkBackup(
  label: string,
  topics: { spec: TopicSpec; produced: number[] }[],
  expectedBlobs: Map<string, Buffer>,
  reader: BucketReader = s3Reader,
  bootstrapServers?: string,
): Promise<AzulReport> {
  const sources = await Promise.all(
    topics.map(async ({ spec, produced }) => ({
      spec,
      source: await readPartitions(
        produced.map((count, partition) => ({ topic: spec.name, partition, count })),
        bootstrapServers,
      ),
    })),
  );
  const events = await reader.objects(`coldstore-${label}-events`);
  // No blob stored, no streams bucket: an expected blob is then reported lost. The spool
  // (`~coldstore/spool/`) is not backup data; the tests check it is drained on their own.
  const streams = await reader.objects(`coldstore-${label}-streams`, (key) => !key.startsWith('~coldstore/')).catch(() => []);
  return proveAzulBackup(sources, events, streams, expectedBlobs);
}
