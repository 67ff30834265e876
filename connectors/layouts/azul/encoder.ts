import { createHash } from 'node:crypto';
import type { SinkRecord } from '../../../runtime/api/index.js';
import type { ObjectMetadata } from '../../common/object-store/object-store.js';
import { encodeKafkaBundle } from '../kafka-v1/bundle-codec.js';
import { kafkaBundleKey } from '../kafka-v1/bundle-keys.js';
import type { BundleKey } from '../layout.js';
import { MetadataName } from '../metadata-names.js';
import { assembleBulk } from './bulk.js';
import { InvalidEventError, readEventFields, type EventFields, type StreamRef } from './event-fields.js';
import { azulBundleKey, type AzulTopic } from './keys.js';
import { AZUL_REJECTS_PREFIX, azulBundleMetadata, azulIndexKey, FORMAT_AZUL_INDEX, type AzulIndexEntry } from './objects.js';
import { AZUL_MODEL_VERSION, type AzulModel } from './registry.js';

const sha256 = (body: Buffer) => createHash('sha256').update(body).digest('hex');

/** An object of the azul layout before gzip: key relative to its location, uncompressed body, metadata. */
export interface EncodedObject {
  key: string;
  body: Buffer;
  metadata: ObjectMetadata;
  /** Of the uncompressed body. */
  sha256: string;
}

/** A range's records sorted into valid events (in order, byte-exact) and the records that are not. */
export interface SplitRange {
  events: Buffer[];
  last: EventFields | undefined;
  /** Every stream reference of the events, repeats included. */
  streams: StreamRef[];
  rejects: SinkRecord[];
}

/** Sorts a range's records; `onInvalid` hears of each record that is not a valid event of the model. */
export function splitRange(model: AzulModel, records: readonly SinkRecord[], onInvalid: (record: SinkRecord, reason: string) => void): SplitRange {
  const out: SplitRange = { events: [], last: undefined, streams: [], rejects: [] };
  for (const record of records) {
    if (!record.value) {
      out.rejects.push(record);
      continue;
    }
    try {
      const fields = readEventFields(model, record.value);
      out.events.push(record.value);
      out.last = fields;
      out.streams.push(...fields.streams);
    } catch (err) {
      if (!(err instanceof InvalidEventError)) throw err;
      onInvalid(record, err.message);
      out.rejects.push(record);
    }
  }
  return out;
}

/**
 * The event bundle of a range: a `Bulk<Model>Event` at the key Azul's backup service
 * gives its last event and count. Key, bytes and metadata depend on the events alone,
 * so ranges of identical events make one object.
 */
export function encodeEventBundle(topic: AzulTopic, events: readonly Buffer[], last: EventFields): EncodedObject {
  const body = assembleBulk(AZUL_MODEL_VERSION, events);
  const digest = sha256(body);
  return {
    key: azulBundleKey(topic, last.timestampMicros, events.length, last.kafkaKey),
    body,
    metadata: azulBundleMetadata({ events: events.length, sha256: digest }),
    sha256: digest,
  };
}

/** A range's records that are not valid events: a plain kafka-v1 bundle under a prefix, readable by its usual key. */
export function encodeRejects(range: BundleKey, rejects: readonly SinkRecord[]): EncodedObject {
  const kafkaKey = kafkaBundleKey(range.topic, range.partition, range.start, range.end);
  const { container, metadata } = encodeKafkaBundle(kafkaKey, range.start, range.end, rejects);
  return { key: `${AZUL_REJECTS_PREFIX}${kafkaKey}`, body: container, metadata, sha256: metadata[MetadataName.bodySha256]! };
}

/** A range's index entry before its bundle and rejects are named in it. */
export function newIndexEntry(range: BundleKey, streams: number): AzulIndexEntry {
  return { format: FORMAT_AZUL_INDEX, topic: range.topic, partition: range.partition, start: String(range.start), end: String(range.end), streams };
}

export function encodeIndexEntry(range: BundleKey, entry: AzulIndexEntry): EncodedObject {
  const body = Buffer.from(JSON.stringify(entry));
  const digest = sha256(body);
  const metadata = {
    [MetadataName.format]: FORMAT_AZUL_INDEX,
    [MetadataName.bodySha256]: digest,
    [MetadataName.rangeStart]: String(range.start),
    [MetadataName.rangeEnd]: String(range.end),
  };
  return { key: azulIndexKey(range.topic, range.partition, range.start, range.end), body, metadata, sha256: digest };
}
