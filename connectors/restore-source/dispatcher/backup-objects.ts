import type { Location } from '../../common/backup-location.js';
import { METADATA_PREFIX } from '../../common/formats/backup-metadata.js';
import { BundleDefect, gunzipChecked, type ExpectedSha256 } from '../../layouts/body-check.js';
import { splitBulk } from '../../layouts/azul/bulk.js';
import type { StreamRef } from '../../layouts/azul/event-fields.js';
import { parseAzulBundleKey } from '../../layouts/azul/keys.js';
import { FORMAT_AZUL_BUNDLE, FORMAT_AZUL_STREAM } from '../../layouts/azul/objects.js';
import { isAzulModel, type AzulModel } from '../../layouts/azul/registry.js';
import { MetadataName } from '../../layouts/metadata-names.js';
import { UndecryptableObject } from '../../common/encryption/encrypting-store.js';
import type { FetchedObject, ObjectStore } from '../../common/object-store/object-store.js';
import { BadObjectError } from '../bad-object.js';

/** The backed-up sources (first key segment) of a bucket, coldstore's own directory left out; only `wanted` ones when given. */
export async function sourcesIn(store: ObjectStore, location: Location, wanted: readonly string[]): Promise<string[]> {
  const found = (await store.listDirectories(location.bucket, location.prefix)).filter((d) => `${d}/` !== METADATA_PREFIX);
  return wanted.length === 0 ? found : found.filter((s) => wanted.includes(s));
}

/** The stream a streams-bucket key names: `<source>/<label>/<sha256>`; undefined for any other key. */
export function parseStreamKey(key: string): StreamRef | undefined {
  const m = /^([A-Za-z0-9._-]+)\/([A-Za-z0-9._-]+)\/([0-9a-f]{64})$/.exec(key);
  return m ? { source: m[1]!, label: m[2]!, sha256: m[3]! } : undefined;
}

/** An event bundle key's model, when the key is a bundle key of an Azul model. */
export function bundleModel(key: string): AzulModel | undefined {
  const model = parseAzulBundleKey(key)?.model;
  return model !== undefined && isAzulModel(model) ? model : undefined;
}

async function fetchChecked(
  store: ObjectStore,
  location: Location,
  key: string,
  format: string,
  expected: (object: FetchedObject) => ExpectedSha256[],
): Promise<Buffer> {
  const object = await store.get(location.bucket, key).catch((err: unknown) => {
    if (err instanceof UndecryptableObject) throw new BadObjectError(err.kind, key, err.detail);
    throw err;
  });
  if (!object) throw new BadObjectError('missing', key, 'listed but gone when read (deleted meanwhile?)');
  const found = object.metadata[MetadataName.format];
  if (found !== format)
    throw new BadObjectError('foreign', key, `not a coldstore ${format} object (format ${found ?? 'none'}); remove it or skip it with on.bad.object=skip`);
  try {
    return await gunzipChecked(object.body, expected(object));
  } catch (err) {
    if (err instanceof BundleDefect) throw new BadObjectError(err.kind, key, err.message);
    throw err;
  }
}

/** A stored stream blob (full key), proven to be the blob its key names: its sha256 is the key's and its metadata's. */
export function fetchStreamBlob(store: ObjectStore, location: Location, key: string, ref: StreamRef): Promise<Buffer> {
  return fetchChecked(store, location, key, FORMAT_AZUL_STREAM, (object) => [
    { source: 'its key', sha256: ref.sha256 },
    { source: 'its metadata', sha256: object.metadata[MetadataName.bodySha256] },
  ]);
}

/**
 * A stored event bundle (full key): the raw `Bulk<Model>Event` bytes as backed up, proven
 * to match their metadata's sha256 and to decode as a bulk of the model, with as many
 * events as its metadata and its key say. Returns the bytes and the event count.
 */
export async function fetchEventBulk(store: ObjectStore, location: Location, key: string, model: AzulModel): Promise<{ bulk: Buffer; events: number }> {
  let declared: string | undefined;
  const bulk = await fetchChecked(store, location, key, FORMAT_AZUL_BUNDLE, (object) => {
    declared = object.metadata[MetadataName.recordCount];
    return [{ source: 'its metadata', sha256: object.metadata[MetadataName.bodySha256] }];
  });
  let events: number;
  try {
    events = splitBulk(model, bulk).events.length;
  } catch (err) {
    throw new BadObjectError('truncated', key, `not a whole Bulk ${model} event: ${(err as Error).message}`);
  }
  const inKey = parseAzulBundleKey(key.slice(location.prefix.length))?.count;
  if ((declared !== undefined && Number(declared) !== events) || inKey !== events) {
    throw new BadObjectError('inconsistent', key, `holds ${events} events; its key says ${inKey}, its metadata ${declared ?? 'nothing'}`);
  }
  return { bulk, events };
}
