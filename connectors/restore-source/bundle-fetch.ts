import { FORMAT_KAFKA_V1, type BackedUpRecord } from '../layouts/kafka-v1/bundle-codec.js';
import { readKafkaBundle } from '../layouts/kafka-v1/checked-reader.js';
import { ObjectDefect, type ObjectDefectKind } from '../layouts/object-defect.js';
import { BackupLocation, type Location } from '../common/backup-location.js';
import type { ObjectStore } from '../common/object-store/object-store.js';
import { BadObjectError, type BadObjectKind } from './bad-object.js';

export interface FetchedBundle {
  key: string;
  start: bigint;
  end: bigint;
  records: BackedUpRecord[];
  /** Compressed bytes read. */
  bytes: number;
}

/** The restore states no size, so a size defect cannot come back; every other kind keeps its name. */
const badObjectKind = (kind: ObjectDefectKind): BadObjectKind => (kind === 'size' ? 'inconsistent' : kind);

/** The restore's words for a defect: a foreign object comes with what to do about it. */
function detailOf(defect: ObjectDefect): string {
  if (defect.kind !== 'foreign') return defect.message;
  return `not a coldstore ${FORMAT_KAFKA_V1} bundle (format ${defect.found.format ?? 'none'}); remove it or skip it with on.bad.object=skip`;
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
  const fullKey = BackupLocation.of(location).key(bundle.key);
  try {
    const { records, bytes } = await readKafkaBundle(store, location, bundle, {
      alsoSha256: bundle.sha256 ? { source: 'the backup manifest', sha256: bundle.sha256 } : undefined,
      metadataAgrees: false,
    });
    return { key: fullKey, start: bundle.start, end: bundle.end, records, bytes };
  } catch (err) {
    if (!(err instanceof ObjectDefect)) throw err;
    throw new BadObjectError(badObjectKind(err.kind), fullKey, detailOf(err), { start: bundle.start, end: bundle.end });
  }
}
