import type { ObjectMetadata } from '../../common/object-store/object-store.js';
import { isKafkaTopicName } from '../kafka-v1/bundle-keys.js';
import type { BundleKey } from '../layout.js';
import { MetadataName } from '../metadata-names.js';

/** `coldstore-format` of an azul event bundle: gzip of a raw Avro `Bulk<Model>Event`. */
export const FORMAT_AZUL_BUNDLE = 'azul-v6';
/** `coldstore-format` of a stored stream blob: gzip of the blob, whose sha256 is its key's last part. */
export const FORMAT_AZUL_STREAM = 'azul-stream-v1';
/** `coldstore-format` of an index entry: which bundle covers an offset range of a partition. */
export const FORMAT_AZUL_INDEX = 'azul-index-v1';

/** Keys of the per-partition offset index (azul bundle keys do not carry offsets). */
export const AZUL_INDEX_PREFIX = '~coldstore/azul-index/';

const pad = (n: bigint) => n.toString().padStart(20, '0');

export function azulIndexKey(topic: string, partition: number, start: bigint, end: bigint): string {
  return `${AZUL_INDEX_PREFIX}${topic}/${partition}/${pad(start)}-${pad(end)}.json`;
}

/**
 * The body of an index entry. `bundle` is absent when the range held no valid event
 * (only rejects). It holds nothing that depends on the gzip level, so a rebuild
 * under other settings writes the same entry.
 */
export interface AzulIndexEntry {
  format: typeof FORMAT_AZUL_INDEX;
  topic: string;
  partition: number;
  start: string;
  end: string;
  bundle?: { key: string; events: number; sha256: string };
  /** Records of the range that are not valid events (tombstones, undecodable), kept in kafka-v1 form. */
  rejects?: { key: string; records: number; sha256: string };
  streams: number;
}

/**
 * Metadata of an azul event bundle object: only what is true for every index entry
 * that names it. Ranges of identical (re-sent) events share one object, so the
 * topic, partition and offsets are the entries' to say, not the object's.
 */
export function azulBundleMetadata(args: { events: number; sha256: string }): ObjectMetadata {
  return {
    [MetadataName.format]: FORMAT_AZUL_BUNDLE,
    [MetadataName.bodySha256]: args.sha256,
    [MetadataName.recordCount]: String(args.events),
  };
}

/** Metadata of a stored stream blob. */
export function azulStreamMetadata(sha256: string, size: number): ObjectMetadata {
  return { [MetadataName.format]: FORMAT_AZUL_STREAM, [MetadataName.bodySha256]: sha256, [MetadataName.size]: String(size) };
}

/** Where a partition's index entries start in a listing, so `StartAfter` skips ranges starting before `offset`. */
export function azulIndexStartAfter(topic: string, partition: number, offset: bigint): string {
  return `${AZUL_INDEX_PREFIX}${topic}/${partition}/${pad(offset)}`;
}

const INDEX_KEY = /^~coldstore\/azul-index\/(.+)\/(\d+)\/(\d{20})-(\d{20})\.json$/;

export function parseAzulIndexKey(key: string): BundleKey | undefined {
  const m = INDEX_KEY.exec(key);
  return m ? { topic: m[1]!, partition: Number(m[2]), start: BigInt(m[3]!), end: BigInt(m[4]!) } : undefined;
}

/** The range an index entry's key (relative to the events location) names, under the same rules as parseBundleKeyStrictly. */
export function parseAzulIndexKeyStrictly(key: string): BundleKey | undefined {
  const parsed = parseAzulIndexKey(key);
  if (!parsed || !isKafkaTopicName(parsed.topic) || parsed.start > parsed.end) return undefined;
  return azulIndexKey(parsed.topic, parsed.partition, parsed.start, parsed.end) === key ? parsed : undefined;
}

/** Records of an azul topic that are not valid events, kept in kafka-v1 form so nothing is lost. */
export const AZUL_REJECTS_PREFIX = '~coldstore/azul-rejects/';

/** `coldstore-format` of a stream spool entry: a stream that failed and waits for a retry (never backup data). */
export const FORMAT_STREAM_SPOOL = 'coldstore-spool-v1';

/**
 * The stream spool, in the streams location: in the store rather than on a worker's
 * disk, so a worker that dies for good does not take failed streams with it.
 */
export const STREAM_SPOOL_PREFIX = '~coldstore/spool/';

/** Where a connector's spool entries are, relative to the streams location. */
export function streamSpoolPrefix(connector: string): string {
  return `${STREAM_SPOOL_PREFIX}${connector}/`;
}

/** `coldstore-format` of a missing-stream entry: a stream the dispatcher answered 404, asked for again later (never backup data). */
export const FORMAT_STREAM_MISSING = 'coldstore-missing-v1';

/** The streams the dispatcher did not have, in the streams location: retried every `streams.missing.retry.ms`. */
export const STREAM_MISSING_PREFIX = '~coldstore/missing/';

/** Where a connector's missing-stream entries are, relative to the streams location. */
export function streamMissingPrefix(connector: string): string {
  return `${STREAM_MISSING_PREFIX}${connector}/`;
}
