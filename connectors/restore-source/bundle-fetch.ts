import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { decodeKafkaBundle, FORMAT_KAFKA_V1, type BackedUpRecord } from '../shared/formats/kafka-v1.js';
import type { Location } from '../shared/backup-location.js';
import type { ObjectStore } from '../shared/object-store/object-store.js';
import { BadObjectError } from './bad-object.js';

const gunzipAsync = promisify(gunzip);

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
  bundle: { key: string; topic: string; partition: number; start: bigint; end: bigint },
): Promise<FetchedBundle> {
  const fullKey = `${location.prefix}${bundle.key}`;
  const range = { start: bundle.start, end: bundle.end };
  const bad = (kind: ConstructorParameters<typeof BadObjectError>[0], detail: string) => new BadObjectError(kind, fullKey, detail, range);
  const object = await store.get(location.bucket, fullKey);
  if (!object) throw bad('missing', 'listed but gone when read (deleted meanwhile?)');
  const format = object.metadata['coldstore-format'];
  if (format !== FORMAT_KAFKA_V1) throw bad('foreign', `not a coldstore ${FORMAT_KAFKA_V1} bundle (format ${format ?? 'none'}); remove it or skip it with on.bad.object=skip`);
  let container: Buffer;
  try {
    container = await gunzipAsync(object.body);
  } catch (err) {
    throw bad('corrupt-gzip', `cannot be decompressed: ${(err as Error).message}`);
  }
  const expected = object.metadata['coldstore-body-sha256'];
  const actual = createHash('sha256').update(container).digest('hex');
  if (expected !== actual) throw bad('checksum', `sha256 of the uncompressed body is ${actual}, its metadata says ${expected ?? 'nothing'}`);
  let records: BackedUpRecord[];
  try {
    records = decodeKafkaBundle(container);
  } catch (err) {
    throw bad('truncated', `Avro container unreadable: ${(err as Error).message}`);
  }
  let previous = bundle.start - 1n;
  for (const r of records) {
    if (r.topic !== bundle.topic || r.partition !== bundle.partition || r.offset <= previous || r.offset > bundle.end) {
      throw bad('inconsistent', `holds ${r.topic}/${r.partition}@${r.offset}, outside its key's partition and range or out of order`);
    }
    previous = r.offset;
  }
  return { key: fullKey, start: bundle.start, end: bundle.end, records, bytes: object.body.length };
}
