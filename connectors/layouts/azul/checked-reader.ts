import { BackupLocation, type Location } from '../../common/backup-location.js';
import { BundleDefect, gunzipChecked, type ExpectedSha256 } from '../body-check.js';
import type { ObjectMetadata, ObjectStore } from '../../common/object-store/object-store.js';
import type { BundleKey } from '../layout.js';
import { MetadataName } from '../metadata-names.js';
import { checkingBody, ObjectDefect } from '../object-defect.js';
import { splitBulk } from './bulk.js';
import { rangeNamedBundleKey } from './encoder.js';
import { InvalidEventError, readEventFields, type EventFields, type StreamRef } from './event-fields.js';
import { azulBundleKey, parseAzulTopic, streamKey } from './keys.js';
import { FORMAT_AZUL_BUNDLE } from './objects.js';
import { AZUL_MODEL_VERSION, type AzulModel } from './registry.js';

const WHOLE_NUMBER = /^\d+$/;

/**
 * The partition and range an azul event bundle's metadata says it holds (its key
 * carries no offsets); undefined unless it is an `azul-v6` object that says them all.
 */
export function azulBundleRange(metadata: ObjectMetadata): BundleKey | undefined {
  const topic = metadata[MetadataName.topic];
  const partition = metadata[MetadataName.partition];
  const start = metadata[MetadataName.rangeStart];
  const end = metadata[MetadataName.rangeEnd];
  if (metadata[MetadataName.format] !== FORMAT_AZUL_BUNDLE || !topic || ![partition, start, end].every((n) => n !== undefined && WHOLE_NUMBER.test(n)))
    return undefined;
  return { topic, partition: Number(partition), start: BigInt(start!), end: BigInt(end!) };
}

/** An event count someone states for a bundle (quoted in messages, e.g. "its index entry"). */
export interface StatedEvents {
  source: string;
  events: number | string | undefined;
}

export interface OpenedAzulBundle {
  model: AzulModel;
  /** Each event's exact bytes, in bundle order. */
  events: Buffer[];
  /** The distinct streams its binary events refer to, in order of first reference. */
  streams: StreamRef[];
}

/**
 * Opens an azul event bundle body and proves it is what BackupSink writes for the
 * claimed range of an Azul topic: it gunzips, its bulk has every expected sha256, it
 * is one whole `Bulk<Model>Event` of model version 6 of the topic's model, each event
 * is a valid event, it holds every stated number of events, and its key is the one
 * derived from its last event and count (or that key plus `~<topic>-<partition>-<start>`).
 * Throws BundleDefect, like openCheckedBundle does for kafka-v1 bundles.
 */
export async function openCheckedAzulBundle(
  body: Buffer,
  claim: BundleKey & { key: string },
  expected: readonly ExpectedSha256[],
  counts: readonly StatedEvents[],
): Promise<OpenedAzulBundle> {
  const topic = parseAzulTopic(claim.topic);
  if (!topic) throw new BundleDefect('inconsistent', `claims to hold topic ${claim.topic}, which is not an Azul topic`);
  const bulk = await gunzipChecked(body, expected);
  let split: { modelVersion: number; events: Buffer[] };
  try {
    split = splitBulk(topic.model, bulk);
  } catch (err) {
    throw new BundleDefect('truncated', `not a whole Bulk ${topic.model} event: ${(err as Error).message}`);
  }
  const { events } = split;
  if (split.modelVersion !== Number(AZUL_MODEL_VERSION))
    throw new BundleDefect('inconsistent', `its bulk has model_version ${split.modelVersion}, not ${AZUL_MODEL_VERSION}`);
  for (const { source, events: stated } of counts) {
    if (String(stated) !== String(events.length))
      throw new BundleDefect('inconsistent', `holds ${events.length} events, ${source} says ${stated ?? 'nothing'}`);
  }
  const streams = new Map<string, StreamRef>();
  let last: EventFields | undefined;
  for (const [i, event] of events.entries()) {
    try {
      last = readEventFields(topic.model, event);
    } catch (err) {
      if (!(err instanceof InvalidEventError)) throw err;
      throw new BundleDefect('inconsistent', `event ${i + 1} of ${events.length} is not a valid event: ${err.message}`);
    }
    for (const ref of last.streams) streams.set(streamKey(ref), ref);
  }
  if (!last) throw new BundleDefect('inconsistent', 'holds no event (BackupSink writes no empty bundle)');
  const derived = azulBundleKey(topic, last.timestampMicros, events.length, last.kafkaKey);
  if (claim.key !== derived && claim.key !== rangeNamedBundleKey(derived, claim)) {
    throw new BundleDefect('inconsistent', `its last event and count make the key ${derived}`);
  }
  return { model: topic.model, events, streams: [...streams.values()] };
}

/** What an azul index entry says of the bundle it names. */
export interface IndexedBundle {
  /** The entry's key, relative to the events location. */
  key: string;
  range: BundleKey;
  events: number;
  sha256: string;
}

export interface AzulBundle extends OpenedAzulBundle {
  /** Stored (compressed) bytes. */
  bytes: number;
  metadata: ObjectMetadata;
}

const rangeText = (r: BundleKey) => `${r.topic}/${r.partition} offsets ${r.start}..${r.end}`;

/**
 * The one checked read of an azul event bundle (key relative to the location), against
 * its metadata and, when verify reads it through the index, the entry naming it: it
 * exists, is an `azul-v6` object, holds the entry's range, and passes
 * openCheckedAzulBundle. Throws ObjectDefect.
 */
export async function readAzulBundle(store: ObjectStore, location: Location, key: string, entry?: IndexedBundle): Promise<AzulBundle> {
  let found: { bytes: number; topic?: string; partition?: number } = {
    bytes: 0,
    ...(entry ? { topic: entry.range.topic, partition: entry.range.partition } : {}),
  };
  const object = await store.get(location.bucket, BackupLocation.of(location).key(key));
  if (!object) throw new ObjectDefect('missing', entry ? `the index entry ${entry.key} names it, but it is not in the bucket` : 'not in the bucket', found);
  found = { ...found, bytes: object.body.length };
  const { metadata } = object;
  const range = azulBundleRange(metadata);
  if (!range) {
    const format = metadata[MetadataName.format];
    throw new ObjectDefect(
      'foreign',
      `its metadata does not say coldstore-format=${FORMAT_AZUL_BUNDLE} with the topic, partition and offset range it holds (format ${format ?? 'none'})`,
      { ...found, format },
    );
  }
  found = { ...found, topic: range.topic, partition: range.partition };
  if (entry && rangeText(range) !== rangeText(entry.range))
    throw new ObjectDefect(
      'inconsistent',
      `its metadata says it holds ${rangeText(range)}, its index entry ${entry.key} says ${rangeText(entry.range)}`,
      found,
    );

  const checksums: ExpectedSha256[] = [{ source: 'its metadata', sha256: metadata[MetadataName.bodySha256] }];
  const counts: StatedEvents[] = [{ source: 'its metadata (coldstore-record-count)', events: metadata[MetadataName.recordCount] }];
  if (entry) {
    checksums.unshift({ source: 'its index entry', sha256: entry.sha256 });
    counts.unshift({ source: 'its index entry', events: entry.events });
  }
  const opened = await checkingBody(found, () => openCheckedAzulBundle(object.body, { key, ...range }, checksums, counts));
  return { bytes: found.bytes, metadata, ...opened };
}
