import type { Location } from '../backup-location.js';
import { BundleDefect, openCheckedBundle, type BundleDefectKind, type ExpectedSha256 } from '../bundle-check.js';
import { FORMAT_KAFKA_V1, type BackedUpRecord } from '../../layouts/kafka-v1/bundle-codec.js';
import type { ObjectMetadata, ObjectStore } from '../object-store/object-store.js';
import type { BundleKey } from './bundle-key.js';
import type { VerifyProblem, VerifyProblemKind } from './report.js';
import { MetadataName } from '../../layouts/metadata-names.js';

/** What a manifest (or an azul index entry) states about one of the bundles it names. */
export interface BundleStatement {
  /** Who states it, quoted in messages: "the manifest", "its index entry". */
  by: string;
  /** Stored bytes; an azul index entry does not state them. */
  size?: number;
  sha256: string;
  records: number;
}

/** A bundle object to read: its key (relative to the events location) and the range it must hold. */
export interface BundleExpectation extends BundleKey {
  key: string;
  /**
   * Present for a backup by id (the manifest) and for azul rejects (their index entry);
   * the continuous backup's bundles are checked against their own metadata alone.
   */
  stated?: BundleStatement;
}

export type BundleReading = { ok: true; records: BackedUpRecord[]; bytes: number } | { ok: false; problem: VerifyProblem; bytes: number };

/** A damaged gzip stream and an undecodable container are both "the bytes are broken". */
export const PROBLEM_OF_DEFECT: Record<BundleDefectKind, VerifyProblemKind> = {
  'corrupt-gzip': 'corrupt',
  truncated: 'corrupt',
  checksum: 'checksum',
  inconsistent: 'inconsistent',
};

/**
 * Downloads one bundle and checks it end to end, stopping at the first thing wrong:
 * it exists, has the manifest's size, is a kafka-v1 object, gunzips, has every stated
 * sha256 (manifest or index entry, and metadata), decodes to the stated number of records, and its
 * records belong to its key's partition and range in offset order.
 */
export async function readVerifiedBundle(store: ObjectStore, location: Location, expected: BundleExpectation): Promise<BundleReading> {
  const { stated } = expected;
  let bytes = 0;
  const problem = (kind: VerifyProblemKind, message: string): BundleReading => ({
    ok: false,
    bytes,
    problem: { kind, key: expected.key, topic: expected.topic, partition: expected.partition, message },
  });

  const object = await store.get(location.bucket, `${location.prefix}${expected.key}`);
  if (!object) return problem('missing', stated ? `listed in ${stated.by} but not in the bucket` : 'listed but gone when read (deleted meanwhile?)');
  bytes = object.body.length;
  const { metadata } = object;
  if (stated?.size !== undefined && bytes !== stated.size) return problem('size', `is ${bytes} bytes, ${stated.by} says ${stated.size}`);
  // A backup's manifest (an index entry) vouches for its objects; elsewhere only the metadata says an object is a bundle.
  if (!stated && metadata[MetadataName.format] !== FORMAT_KAFKA_V1) {
    return problem('foreign', `is named like a bundle but its metadata does not say coldstore-format=${FORMAT_KAFKA_V1} (format ${metadata[MetadataName.format] ?? 'none'})`);
  }

  const checksums: ExpectedSha256[] = [{ source: 'its metadata', sha256: metadata[MetadataName.bodySha256] }];
  if (stated) checksums.unshift({ source: stated.by, sha256: stated.sha256 });
  let records: BackedUpRecord[];
  try {
    records = await openCheckedBundle(object.body, expected, checksums);
  } catch (err) {
    if (err instanceof BundleDefect) return problem(PROBLEM_OF_DEFECT[err.kind], err.message);
    throw err;
  }

  const mismatch = statedCountMismatch(records.length, stated, metadata) ?? statedRangeMismatch(expected, metadata);
  if (mismatch) return problem('inconsistent', mismatch);
  return { ok: true, records, bytes };
}

function statedCountMismatch(decoded: number, stated: BundleStatement | undefined, metadata: ObjectMetadata): string | undefined {
  if (stated && stated.records !== decoded) return `holds ${decoded} records, ${stated.by} says ${stated.records}`;
  const inMetadata = metadata[MetadataName.records];
  // With a manifest, its count is the one that matters; metadata without a count is then no problem.
  if (inMetadata === undefined && stated) return undefined;
  if (inMetadata !== String(decoded)) return `holds ${decoded} records, its metadata says ${inMetadata ?? 'nothing'} (coldstore-records)`;
  return undefined;
}

function statedRangeMismatch(expected: BundleExpectation, metadata: ObjectMetadata): string | undefined {
  const start = metadata[MetadataName.rangeStart];
  const end = metadata[MetadataName.rangeEnd];
  if ((start !== undefined && start !== expected.start.toString()) || (end !== undefined && end !== expected.end.toString())) {
    return `its metadata says it covers ${start ?? '?'}..${end ?? '?'}, its key ${expected.start}..${expected.end}`;
  }
  return undefined;
}
