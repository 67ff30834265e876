import { gunzip } from '../../runtime/api/index.js';
import { sha256Hex } from '../common/sha256.js';
import { decodeKafkaBundle, type BackedUpRecord } from './kafka-v1/bundle-codec.js';
import type { ObjectDefectKind } from './object-defect.js';
import type { OffsetRange } from './layout.js';

/**
 * Gunzips in one threadpool job when it can: the gzip trailer states the uncompressed
 * size (mod 2^32), and an output buffer that large is filled in one go (the codec caps
 * it, so a damaged trailer cannot make us allocate much). A wrong hint only costs time.
 */
function gunzipWhole(body: Buffer): Promise<Buffer> {
  const stated = body.length >= 18 ? body.readUInt32LE(body.length - 4) : 0;
  return gunzip(body, stated);
}

/** What can be wrong with a body (a subset of the one list, OBJECT_DEFECT_KINDS), in the order it is checked. */
export type BundleDefectKind = Extract<ObjectDefectKind, 'corrupt-gzip' | 'checksum' | 'truncated' | 'inconsistent'>;

/** A bundle body that is not what it claims to be; `message` is the detail, without the key. */
export class BundleDefect extends Error {
  override readonly name = 'BundleDefect';
  constructor(
    readonly kind: BundleDefectKind,
    message: string,
  ) {
    super(message);
  }
}

/** What a bundle's key says it holds. */
export type BundleClaim = OffsetRange;

/** A sha256 the uncompressed body must have, and who states it (quoted in messages, e.g. "its metadata"). */
export interface ExpectedSha256 {
  source: string;
  sha256: string | undefined;
}

/** Gunzips a stored body and proves its uncompressed bytes have every expected sha256 (any format: bundles, azul bulks, stream blobs). */
export async function gunzipChecked(body: Buffer, expected: readonly ExpectedSha256[]): Promise<Buffer> {
  let plain: Buffer;
  try {
    plain = await gunzipWhole(body);
  } catch (err) {
    throw new BundleDefect('corrupt-gzip', `cannot be decompressed: ${(err as Error).message}`);
  }
  const actual = await sha256Hex(plain);
  for (const { source, sha256 } of expected) {
    if (sha256 !== actual) throw new BundleDefect('checksum', `sha256 of the uncompressed body is ${actual}, ${source} says ${sha256 ?? 'nothing'}`);
  }
  return plain;
}

/**
 * Opens a kafka-v1 bundle body and proves it is what its key says: it gunzips, its
 * uncompressed bytes have every expected sha256, the Avro container decodes, and
 * every record belongs to the claimed topic, partition and range, in offset order.
 * Shared by the restore (which must not restore anything else) and `coldstore verify`.
 */
export async function openCheckedBundle(body: Buffer, claim: BundleClaim, expected: readonly ExpectedSha256[]): Promise<BackedUpRecord[]> {
  const container = await gunzipChecked(body, expected);
  let records: BackedUpRecord[];
  try {
    records = decodeKafkaBundle(container);
  } catch (err) {
    throw new BundleDefect('truncated', `Avro container unreadable: ${(err as Error).message}`);
  }
  let previous = claim.start - 1n;
  for (const r of records) {
    if (r.topic !== claim.topic || r.partition !== claim.partition || r.offset <= previous || r.offset > claim.end) {
      throw new BundleDefect('inconsistent', `holds ${r.topic}/${r.partition}@${r.offset}, outside its key's partition and range or out of order`);
    }
    previous = r.offset;
  }
  return records;
}
