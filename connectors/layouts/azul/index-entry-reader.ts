import { createHash } from 'node:crypto';
import { BackupLocation, type Location } from '../../common/backup-location.js';
import type { ObjectStore } from '../../common/object-store/object-store.js';
import { kafkaBundleKey } from '../kafka-v1/bundle-keys.js';
import type { BundleKey } from '../layout.js';
import { MetadataName } from '../metadata-names.js';
import { getChecked, ObjectDefect } from '../object-defect.js';
import { parseAzulBundleKey } from './keys.js';
import { AZUL_REJECTS_PREFIX, FORMAT_AZUL_INDEX, type AzulIndexEntry } from './objects.js';

/** An index entry as listed: its key (relative to the events location) and the range it names. */
export interface IndexedRange extends BundleKey {
  key: string;
}

/**
 * The checked read of an index entry: it is an `azul-index-v1` object whose bytes have
 * its metadata's sha256 and whose fields are those of its key's range. Throws ObjectDefect.
 */
export async function readAzulIndexEntry(store: ObjectStore, location: Location, range: IndexedRange): Promise<AzulIndexEntry> {
  const found = { bytes: 0, topic: range.topic, partition: range.partition };
  const object = await getChecked(store, location.bucket, BackupLocation.of(location).key(range.key), found);
  if (!object) throw new ObjectDefect('missing', 'listed but gone when read (deleted meanwhile?)', found);
  const { metadata } = object;
  const format = metadata[MetadataName.format];
  if (format !== FORMAT_AZUL_INDEX)
    throw new ObjectDefect(
      'foreign',
      `is named like an index entry but its metadata does not say coldstore-format=${FORMAT_AZUL_INDEX} (format ${format ?? 'none'})`,
      { ...found, format },
    );
  const actual = createHash('sha256').update(object.body).digest('hex');
  const stated = metadata[MetadataName.bodySha256];
  if (actual !== stated) throw new ObjectDefect('checksum', `sha256 of the entry is ${actual}, its metadata says ${stated ?? 'nothing'}`, found);
  let entry: unknown;
  try {
    entry = JSON.parse(object.body.toString('utf8'));
  } catch (err) {
    throw new ObjectDefect('truncated', `is not JSON: ${(err as Error).message}`, found);
  }
  const wrong = entryMismatch(entry, range);
  if (wrong) throw new ObjectDefect('inconsistent', wrong, found);
  return entry as AzulIndexEntry;
}

const SHA256 = /^[0-9a-f]{64}$/;
const isCount = (n: unknown, min: number) => Number.isSafeInteger(n) && (n as number) >= min;

/** What is wrong with an index entry's body for its key's range, if anything. */
function entryMismatch(value: unknown, range: IndexedRange): string | undefined {
  const entry = value as Partial<AzulIndexEntry> | null;
  if (typeof entry !== 'object' || entry === null || entry.format !== FORMAT_AZUL_INDEX) return `is not an ${FORMAT_AZUL_INDEX} entry`;
  if (entry.topic !== range.topic || entry.partition !== range.partition || entry.start !== String(range.start) || entry.end !== String(range.end)) {
    return `says it covers ${entry.topic}/${entry.partition} offsets ${entry.start}..${entry.end}, its key ${range.topic}/${range.partition} offsets ${range.start}..${range.end}`;
  }
  const { bundle, rejects } = entry;
  if (
    bundle !== undefined &&
    (typeof bundle.key !== 'string' || !parseAzulBundleKey(bundle.key) || !isCount(bundle.events, 1) || !SHA256.test(String(bundle.sha256)))
  ) {
    return `names its bundle as ${JSON.stringify(bundle)}, not an azul bundle key with an event count and a sha256`;
  }
  const rejectsKey = `${AZUL_REJECTS_PREFIX}${kafkaBundleKey(range.topic, range.partition, range.start, range.end)}`;
  if (rejects !== undefined && (rejects.key !== rejectsKey || !isCount(rejects.records, 1) || !SHA256.test(String(rejects.sha256)))) {
    return `names its rejects as ${JSON.stringify(rejects)}; the rejects of its range are ${rejectsKey}, with a record count and a sha256`;
  }
  if (!isCount(entry.streams, 0)) return `gives no stream count (streams: ${JSON.stringify(entry.streams)})`;
  return undefined;
}
