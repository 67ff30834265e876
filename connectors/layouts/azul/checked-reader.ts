import { createHash } from 'node:crypto';
import { BackupLocation, type Location } from '../../common/backup-location.js';
import { BundleDefect, gunzipChecked, type ExpectedSha256 } from '../body-check.js';
import { storedBytes, type ObjectMetadata, type ObjectStore } from '../../common/object-store/object-store.js';
import type { BundleKey } from '../layout.js';
import { MetadataName } from '../metadata-names.js';
import { checkingBody, getChecked, ObjectDefect } from '../object-defect.js';
import { splitBulk } from './bulk.js';
import { InvalidEventError, readEventFields, type EventFields, type StreamRef } from './event-fields.js';
import { azulBundleKey, collisionBundleKey, parseAzulBundleKey, parseAzulTopic, streamKey, type AzulTopic } from './keys.js';
import { FORMAT_AZUL_BUNDLE } from './objects.js';
import { AZUL_MODEL_VERSION, isAzulModel, type AzulModel } from './registry.js';

const WHOLE_NUMBER = /^\d+$/;

/**
 * The range an azul event bundle's metadata names, on objects written before bundles of
 * identical events were shared (newer objects name none: their index entries do);
 * undefined unless it is an `azul-v6` object that says them all.
 */
export function legacyAzulBundleRange(metadata: ObjectMetadata): BundleKey | undefined {
  const topic = metadata[MetadataName.topic];
  const partition = metadata[MetadataName.partition];
  const start = metadata[MetadataName.rangeStart];
  const end = metadata[MetadataName.rangeEnd];
  if (metadata[MetadataName.format] !== FORMAT_AZUL_BUNDLE || !topic || ![partition, start, end].every((n) => n !== undefined && WHOLE_NUMBER.test(n)))
    return undefined;
  return { topic, partition: Number(partition), start: BigInt(start!), end: BigInt(end!) };
}

/** The `<source>/<model>/<action>` group an azul bundle key names, when its model is an Azul model. */
function groupOfKey(key: string): AzulTopic | undefined {
  const parsed = parseAzulBundleKey(key);
  if (!parsed || !isAzulModel(parsed.model)) return undefined;
  return { prefix: '', source: parsed.source, model: parsed.model, action: parsed.action };
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

/** Whose bundle is opened: its key, and the range of the index entry naming it (when read through one). */
export interface AzulBundleClaim {
  key: string;
  range?: BundleKey;
}

/**
 * Opens an azul event bundle body and proves it is what BackupSink writes: it gunzips,
 * its bulk has every expected sha256, it is one whole `Bulk<Model>Event` of model
 * version 6 of the model of the claimed range's topic (else of its key's group), each
 * event is a valid event, it holds every stated number of events, and its key is the
 * one derived from its last event and count, or that key plus `~` and the start of the
 * bulk's sha256 (docs/formats.md). Throws BundleDefect, like openCheckedBundle does for
 * kafka-v1 bundles.
 */
export async function openCheckedAzulBundle(
  body: Buffer,
  claim: AzulBundleClaim,
  expected: readonly ExpectedSha256[],
  counts: readonly StatedEvents[],
): Promise<OpenedAzulBundle> {
  const topic = claim.range ? parseAzulTopic(claim.range.topic) : groupOfKey(claim.key);
  if (!topic)
    throw new BundleDefect(
      'inconsistent',
      claim.range ? `claims to hold topic ${claim.range.topic}, which is not an Azul topic` : 'its key names no group of an Azul model',
    );
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
  const digest = createHash('sha256').update(bulk).digest('hex');
  // Earlier versions named a collision by the range (`~<topic>-<partition>-<start>`); their backups still verify.
  const legacy = claim.range && `${derived}~${claim.range.topic}-${claim.range.partition}-${claim.range.start}`;
  if (claim.key !== derived && claim.key !== collisionBundleKey(derived, digest) && claim.key !== legacy) {
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

/**
 * The one checked read of an azul event bundle (key relative to the location), against
 * its metadata and, when verify reads it through the index, the entry naming it: it
 * exists, is an `azul-v6` object, and passes openCheckedAzulBundle against the entry's
 * sha256 and count (the entry's range is what it must hold; the object does not say
 * which range, since ranges of identical events share it). Throws ObjectDefect.
 */
export async function readAzulBundle(store: ObjectStore, location: Location, key: string, entry?: IndexedBundle): Promise<AzulBundle> {
  let found: { bytes: number; topic?: string; partition?: number } = {
    bytes: 0,
    ...(entry ? { topic: entry.range.topic, partition: entry.range.partition } : {}),
  };
  const object = await getChecked(store, location.bucket, BackupLocation.of(location).key(key), found);
  if (!object) throw new ObjectDefect('missing', entry ? `the index entry ${entry.key} names it, but it is not in the bucket` : 'not in the bucket', found);
  found = { ...found, bytes: storedBytes(object) };
  const { metadata } = object;
  const format = metadata[MetadataName.format];
  if (format !== FORMAT_AZUL_BUNDLE)
    throw new ObjectDefect(
      'foreign',
      `its metadata does not say coldstore-format=${FORMAT_AZUL_BUNDLE} (format ${format ?? 'none'}): not written by coldstore`,
      {
        ...found,
        format,
      },
    );
  const checksums: ExpectedSha256[] = [{ source: 'its metadata', sha256: metadata[MetadataName.bodySha256] }];
  const counts: StatedEvents[] = [{ source: 'its metadata (coldstore-record-count)', events: metadata[MetadataName.recordCount] }];
  if (entry) {
    checksums.unshift({ source: 'its index entry', sha256: entry.sha256 });
    counts.unshift({ source: 'its index entry', events: entry.events });
  }
  const claim: AzulBundleClaim = entry ? { key, range: entry.range } : { key };
  const opened = await checkingBody(found, () => openCheckedAzulBundle(object.body, claim, checksums, counts));
  return { bytes: found.bytes, metadata, ...opened };
}
