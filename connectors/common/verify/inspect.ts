import { ColdstoreError, ErrorCodes } from '../../../runtime/api/index.js';
import { BackupLocation, type Location } from '../backup-location.js';
import { parseAzulBundleKey } from '../../layouts/azul/keys.js';
import { AZUL_REJECTS_PREFIX } from '../../layouts/azul/objects.js';
import { eventType, type AzulModel } from '../../layouts/azul/registry.js';
import type { ObjectMetadata, ObjectStore } from '../object-store/object-store.js';
import { readVerifiedAzulBundle, readVerifiedBundle } from './checked-reads.js';
import { parseBundleKeyStrictly } from '../../layouts/kafka-v1/bundle-keys.js';
import type { BundleKey } from '../../layouts/layout.js';
import type { VerifyProblem } from './report.js';
import { avroValueToJson, recordToJson, type RecordEncoding, type RecordJson } from './record-json.js';

export type InspectOptions = {
  store: ObjectStore;
  location: Location;
  /**
   * The object's key relative to the events location: a bundle (`orders/0/<start>-<end>.avro.gz`),
   * an azul rejects bundle (`~coldstore/azul-rejects/<topic>/…`) or, for inspectAzulBundle, an
   * azul event bundle (`<source>/<model>/<action>/<time>-<count>-<kafka_key>`).
   */
  key: string;
  encoding?: RecordEncoding;
  /** At most this many records or events (from the first). */
  limit?: number;
};

/** What a key names: a kafka-v1 bundle (a kafka-layout bundle or azul rejects) with the range it must hold, or an azul event bundle. */
type NamedObject = { holds: 'records'; key: string; claim: BundleKey } | { holds: 'events'; key: string };

function named(key: string): NamedObject | undefined {
  const claim = parseBundleKeyStrictly(key.startsWith(AZUL_REJECTS_PREFIX) ? key.slice(AZUL_REJECTS_PREFIX.length) : key);
  if (claim) return { holds: 'records', key, claim };
  return parseAzulBundleKey(key) ? { holds: 'events', key } : undefined;
}

/** Keys copied from a shared bucket's listing carry the location prefix; accept them too. */
function namedObject(key: string, location: Location): NamedObject | undefined {
  return named(key) ?? (location.prefix && key.startsWith(location.prefix) ? named(BackupLocation.of(location).relative(key)) : undefined);
}

/** Whether `key` names an azul event bundle (read with inspectAzulBundle) rather than a kafka-v1 bundle (inspectBundle). */
export function isAzulBundleKey(key: string, location: Location): boolean {
  return namedObject(key, location)?.holds === 'events';
}

function foreign(key: string): ColdstoreError {
  return new ColdstoreError(
    ErrorCodes.BACKUP_OBJECT_INVALID,
    `foreign: ${key}: is not named like a bundle (<topic>/<partition>/<start>-<end>.avro.gz, or an azul bundle <source>/<model>/<action>/<time>-<count>-<kafka_key>, ` +
      'relative to the events location; `coldstore ls --objects` lists them)',
  );
}

function invalid(problem: VerifyProblem, location: Location): ColdstoreError {
  return new ColdstoreError(ErrorCodes.BACKUP_OBJECT_INVALID, `${problem.kind}: ${problem.key} in ${location.bucket}: ${problem.message}`);
}

/**
 * A bundle's records as plain JSON objects, in offset order. The bundle is checked
 * as `coldstore verify` checks it (sha256, decoding, records inside its key's range)
 * first: a damaged or foreign object is a BACKUP_OBJECT_INVALID error naming the key,
 * never half a listing.
 */
export async function* inspectBundle(options: InspectOptions): AsyncGenerator<RecordJson> {
  const { store, location, encoding = 'auto', limit } = options;
  const object = namedObject(options.key, location);
  if (object?.holds !== 'records') throw foreign(options.key);
  const reading = await readVerifiedBundle(store, location, { key: object.key, ...object.claim });
  if (!reading.ok) throw invalid(reading.problem, location);
  const records = limit === undefined ? reading.records : reading.records.slice(0, limit);
  for (const record of records) yield recordToJson(record, encoding);
}

export type AzulBundleJson = {
  key: string;
  model: AzulModel;
  /** The object's metadata: format, sha256, event count, topic, partition and offset range. */
  metadata: ObjectMetadata;
  /** Each event decoded with the model's full v6 schema, as JSON (see avroValueToJson). */
  events: unknown[];
};

/**
 * An azul event bundle: its metadata and its events as plain JSON, in bundle order,
 * after the checks `coldstore verify` makes of it (without its index entry): a damaged
 * or foreign object is a BACKUP_OBJECT_INVALID error naming the key.
 */
export async function inspectAzulBundle(options: InspectOptions): Promise<AzulBundleJson> {
  const { store, location, encoding = 'auto', limit } = options;
  const object = namedObject(options.key, location);
  if (object?.holds !== 'events') throw foreign(options.key);
  const reading = await readVerifiedAzulBundle(store, location, object.key);
  if (!reading.ok) throw invalid(reading.problem, location);
  const type = eventType(reading.model);
  const events = limit === undefined ? reading.events : reading.events.slice(0, limit);
  return {
    key: object.key,
    model: reading.model,
    metadata: reading.metadata,
    events: events.map((bytes) => avroValueToJson(type.fromBuffer(bytes), encoding)),
  };
}
