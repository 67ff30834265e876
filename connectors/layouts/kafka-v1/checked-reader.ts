import { BackupLocation, type Location } from '../../common/backup-location.js';
import { openCheckedBundle, type ExpectedSha256 } from '../body-check.js';
import { storedBytes, type ObjectMetadata, type ObjectStore } from '../../common/object-store/object-store.js';
import type { BundleKey } from '../layout.js';
import { MetadataName } from '../metadata-names.js';
import { checkingBody, getChecked, ObjectDefect } from '../object-defect.js';
import { FORMAT_KAFKA_V1, type BackedUpRecord } from './bundle-codec.js';

/** What a manifest (or an azul index entry) states about one of the bundles it names. */
export interface BundleStatement {
  /** Who states it, quoted in messages: "the manifest", "its index entry". */
  by: string;
  /** Stored bytes; an azul index entry does not state them. */
  size?: number;
  sha256: string;
  records: number;
}

/** A bundle to read: its key (relative to the location) and the partition and range it must hold. */
export interface KafkaBundleClaim extends BundleKey {
  key: string;
}

export interface KafkaBundleChecks {
  /**
   * A manifest's or index entry's statement, checked first; it vouches that the
   * object is a bundle, so its metadata need not say so.
   */
  stated?: BundleStatement | undefined;
  /** A sha256 someone else states, checked after the metadata's (the restore's manifest). */
  alsoSha256?: ExpectedSha256 | undefined;
  /** Whether the metadata's record count and range must agree with the records (verify); the restore reads only the records. */
  metadataAgrees: boolean;
}

export interface KafkaBundle {
  records: BackedUpRecord[];
  /** Stored (compressed) bytes. */
  bytes: number;
  metadata: ObjectMetadata;
}

/**
 * The one checked read of a kafka-v1 bundle, stopping at the first thing wrong: it
 * exists, has the stated size, is a kafka-v1 object, gunzips, has every expected
 * sha256, decodes, its records belong to its key's partition and range in offset
 * order, and (when asked) its stated and recorded counts and range agree.
 * Throws ObjectDefect.
 */
export async function readKafkaBundle(store: ObjectStore, location: Location, claim: KafkaBundleClaim, checks: KafkaBundleChecks): Promise<KafkaBundle> {
  const { stated } = checks;
  const object = await getChecked(store, location.bucket, BackupLocation.of(location).key(claim.key), { bytes: 0 });
  if (!object)
    throw new ObjectDefect('missing', stated ? `listed in ${stated.by} but not in the bucket` : 'listed but gone when read (deleted meanwhile?)', { bytes: 0 });
  const bytes = storedBytes(object);
  const { metadata } = object;
  const defect = (kind: ObjectDefect['kind'], message: string) => new ObjectDefect(kind, message, { bytes });
  if (stated?.size !== undefined && bytes !== stated.size) throw defect('size', `is ${bytes} bytes, ${stated.by} says ${stated.size}`);
  const format = metadata[MetadataName.format];
  if (!stated && format !== FORMAT_KAFKA_V1) {
    throw new ObjectDefect('foreign', `is named like a bundle but its metadata does not say coldstore-format=${FORMAT_KAFKA_V1} (format ${format ?? 'none'})`, {
      bytes,
      format,
    });
  }

  const checksums: ExpectedSha256[] = [{ source: 'its metadata', sha256: metadata[MetadataName.bodySha256] }];
  if (stated) checksums.unshift({ source: stated.by, sha256: stated.sha256 });
  if (checks.alsoSha256) checksums.push(checks.alsoSha256);
  const records = await checkingBody({ bytes }, () => openCheckedBundle(object.body, claim, checksums));

  if (checks.metadataAgrees) {
    const mismatch = statedCountMismatch(records.length, stated, metadata) ?? statedRangeMismatch(claim, metadata);
    if (mismatch) throw defect('inconsistent', mismatch);
  }
  return { records, bytes, metadata };
}

function statedCountMismatch(decoded: number, stated: BundleStatement | undefined, metadata: ObjectMetadata): string | undefined {
  if (stated && stated.records !== decoded) return `holds ${decoded} records, ${stated.by} says ${stated.records}`;
  const inMetadata = metadata[MetadataName.records];
  // With a manifest, its count is the one that matters; metadata without a count is then no problem.
  if (inMetadata === undefined && stated) return undefined;
  if (inMetadata !== String(decoded)) return `holds ${decoded} records, its metadata says ${inMetadata ?? 'nothing'} (coldstore-records)`;
  return undefined;
}

function statedRangeMismatch(claim: BundleKey, metadata: ObjectMetadata): string | undefined {
  const start = metadata[MetadataName.rangeStart];
  const end = metadata[MetadataName.rangeEnd];
  if ((start !== undefined && start !== claim.start.toString()) || (end !== undefined && end !== claim.end.toString())) {
    return `its metadata says it covers ${start ?? '?'}..${end ?? '?'}, its key ${claim.start}..${claim.end}`;
  }
  return undefined;
}
