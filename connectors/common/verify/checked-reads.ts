import { readAzulBundle, type AzulBundle, type IndexedBundle } from '../../layouts/azul/checked-reader.js';
import { readAzulIndexEntry, type IndexedRange } from '../../layouts/azul/index-entry-reader.js';
import type { AzulIndexEntry } from '../../layouts/azul/objects.js';
import type { BackedUpRecord } from '../../layouts/kafka-v1/bundle-codec.js';
import { readKafkaBundle, type BundleStatement } from '../../layouts/kafka-v1/checked-reader.js';
import type { BundleKey } from '../../layouts/layout.js';
import { ObjectDefect, type ObjectDefectKind } from '../../layouts/object-defect.js';
import type { Location } from '../backup-location.js';
import type { ObjectMetadata, ObjectStore } from '../object-store/object-store.js';
import type { VerifyProblem, VerifyProblemKind } from './report.js';

/** A bundle object to read: its key (relative to the events location) and the range it must hold. */
export interface BundleExpectation extends BundleKey {
  key: string;
  /**
   * Present for a backup by id (the manifest) and for azul rejects (their index entry);
   * the continuous backup's bundles are checked against their own metadata alone.
   */
  stated?: BundleStatement;
}

export type BundleReading =
  { ok: true; records: BackedUpRecord[]; bytes: number; metadata: ObjectMetadata } | { ok: false; problem: VerifyProblem; bytes: number };

export type EntryReading = { ok: true; entry: AzulIndexEntry } | { ok: false; problem: VerifyProblem };

export type AzulBundleReading = ({ ok: true } & AzulBundle) | { ok: false; problem: VerifyProblem; bytes: number };

/** A damaged gzip stream and an undecodable container are both "the bytes are broken". */
const PROBLEM_OF_DEFECT: Record<ObjectDefectKind, VerifyProblemKind> = {
  missing: 'missing',
  'key-unavailable': 'key-unavailable',
  'not-authentic': 'not-authentic',
  size: 'size',
  foreign: 'foreign',
  'corrupt-gzip': 'corrupt',
  truncated: 'corrupt',
  checksum: 'checksum',
  inconsistent: 'inconsistent',
};

function failed(err: unknown, key: string, where: { topic?: string; partition?: number }): { ok: false; problem: VerifyProblem; bytes: number } {
  if (!(err instanceof ObjectDefect)) throw err;
  return { ok: false, bytes: err.found.bytes, problem: { kind: PROBLEM_OF_DEFECT[err.kind], key, ...where, message: err.message } };
}

/** A kafka-v1 bundle (or azul rejects) read as verify reads it: against what is stated of it, and its metadata against its records. */
export async function readVerifiedBundle(store: ObjectStore, location: Location, expected: BundleExpectation): Promise<BundleReading> {
  try {
    const { records, bytes, metadata } = await readKafkaBundle(store, location, expected, { stated: expected.stated, metadataAgrees: true });
    return { ok: true, records, bytes, metadata };
  } catch (err) {
    return failed(err, expected.key, { topic: expected.topic, partition: expected.partition });
  }
}

/** An azul event bundle read as verify reads it, through its index entry when there is one. */
export async function readVerifiedAzulBundle(store: ObjectStore, location: Location, key: string, entry?: IndexedBundle): Promise<AzulBundleReading> {
  try {
    return { ok: true, ...(await readAzulBundle(store, location, key, entry)) };
  } catch (err) {
    const found: { topic?: string; partition?: number } = err instanceof ObjectDefect ? err.found : {};
    return failed(err, key, found.topic === undefined ? {} : { topic: found.topic, partition: found.partition! });
  }
}

/** An azul index entry, checked against its key's range. */
export async function readVerifiedIndexEntry(store: ObjectStore, location: Location, range: IndexedRange): Promise<EntryReading> {
  try {
    return { ok: true, entry: await readAzulIndexEntry(store, location, range) };
  } catch (err) {
    const { problem } = failed(err, range.key, { topic: range.topic, partition: range.partition });
    return { ok: false, problem };
  }
}
