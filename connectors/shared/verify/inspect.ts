import { ColdstoreError, ErrorCodes } from '../../../runtime/api/index.js';
import type { Location } from '../backup-location.js';
import type { ObjectStore } from '../object-store/object-store.js';
import { readVerifiedBundle } from './bundle-object.js';
import { parseBundleKeyStrictly } from './bundle-key.js';
import { recordToJson, type RecordEncoding, type RecordJson } from './record-json.js';

export type InspectOptions = {
  store: ObjectStore;
  location: Location;
  /** The bundle's key relative to the events location, e.g. `orders/0/<start>-<end>.avro.gz`. */
  key: string;
  encoding?: RecordEncoding;
  /** At most this many records (from the first). */
  limit?: number;
};

/**
 * A bundle's records as plain JSON objects, in offset order. The bundle is checked
 * as `coldstore verify` checks it (sha256, decoding, records inside its key's range)
 * first: a damaged or foreign object is a BACKUP_OBJECT_INVALID error naming the key,
 * never half a listing.
 */
export async function* inspectBundle(options: InspectOptions): AsyncGenerator<RecordJson> {
  const { store, location, encoding = 'auto', limit } = options;
  // Keys copied from a shared bucket's listing carry the location prefix; accept them too.
  const key = !parseBundleKeyStrictly(options.key) && location.prefix && options.key.startsWith(location.prefix) ? options.key.slice(location.prefix.length) : options.key;
  const named = parseBundleKeyStrictly(key);
  if (!named) {
    throw new ColdstoreError(
      ErrorCodes.BACKUP_OBJECT_INVALID,
      `foreign: ${key}: is not named like a bundle (<topic>/<partition>/<start>-<end>.avro.gz, relative to the events location; \`coldstore ls --objects\` lists them)`,
    );
  }
  const reading = await readVerifiedBundle(store, location, { key, ...named });
  if (!reading.ok) throw new ColdstoreError(ErrorCodes.BACKUP_OBJECT_INVALID, `${reading.problem.kind}: ${key} in ${location.bucket}: ${reading.problem.message}`);
  const records = limit === undefined ? reading.records : reading.records.slice(0, limit);
  for (const record of records) yield recordToJson(record, encoding);
}
