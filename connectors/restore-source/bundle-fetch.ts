import { BundleDefect, openCheckedBundle } from '../shared/bundle-check.js';
import { FORMAT_KAFKA_V1, type BackedUpRecord } from '../layouts/kafka-v1/bundle-codec.js';
import type { Location } from '../shared/backup-location.js';
import type { ObjectStore } from '../shared/object-store/object-store.js';
import { BadObjectError } from './bad-object.js';
import { MetadataName } from '../layouts/metadata-names.js';

export interface FetchedBundle {
  key: string;
  start: bigint;
  end: bigint;
  records: BackedUpRecord[];
  /** Compressed bytes read. */
  bytes: number;
}

/**
 * Reads one bundle and proves it is what its key says: a kafka-v1 object whose
 * uncompressed bytes match their recorded sha256 and whose records belong to the
 * key's topic, partition and range, in offset order. Anything else is a BadObjectError.
 */
export async function fetchBundle(
  store: ObjectStore,
  location: Location,
  bundle: { key: string; topic: string; partition: number; start: bigint; end: bigint; sha256?: string | undefined },
): Promise<FetchedBundle> {
  const fullKey = `${location.prefix}${bundle.key}`;
  const range = { start: bundle.start, end: bundle.end };
  const bad = (kind: ConstructorParameters<typeof BadObjectError>[0], detail: string) => new BadObjectError(kind, fullKey, detail, range);
  const object = await store.get(location.bucket, fullKey);
  if (!object) throw bad('missing', 'listed but gone when read (deleted meanwhile?)');
  const format = object.metadata[MetadataName.format];
  if (format !== FORMAT_KAFKA_V1) throw bad('foreign', `not a coldstore ${FORMAT_KAFKA_V1} bundle (format ${format ?? 'none'}); remove it or skip it with on.bad.object=skip`);
  let records: BackedUpRecord[];
  try {
    records = await openCheckedBundle(object.body, bundle, [
      { source: 'its metadata', sha256: object.metadata[MetadataName.bodySha256] },
      ...(bundle.sha256 ? [{ source: 'the backup manifest', sha256: bundle.sha256 }] : []),
    ]);
  } catch (err) {
    if (err instanceof BundleDefect) throw bad(err.kind, err.message);
    throw err;
  }
  return { key: fullKey, start: bundle.start, end: bundle.end, records, bytes: object.body.length };
}
