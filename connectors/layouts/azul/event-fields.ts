import type avro from 'avsc';
import { AZUL_MODEL_VERSION, eventType, projection, type AzulModel } from './registry.js';

/** A binary blob an event refers to: stored at `<source>/<label>/<sha256>` in the streams bucket. */
export interface StreamRef {
  source: string;
  label: string;
  sha256: string;
  /** Size the event declares for the blob, in bytes (weighs the blob in the in-flight budget; the bytes themselves are checked by sha256). */
  size?: number;
}

/** The few fields a backup needs from an event; everything else stays in the original bytes. */
export interface EventFields {
  kafkaKey: string;
  /** Microseconds since the epoch (timestamp-micros). */
  timestampMicros: bigint;
  /** Binary events only: the datastreams under the event's source. */
  streams: StreamRef[];
}

const timestampMicros = { type: 'long', logicalType: 'timestamp-micros' } as const;

function fieldsSchema(model: AzulModel): avro.Schema {
  const common = [
    { name: 'model_version', type: 'long' },
    { name: 'kafka_key', type: 'string' },
    { name: 'timestamp', type: timestampMicros },
  ];
  if (model !== 'binary') return { type: 'record', name: eventType(model).name!, fields: common } as avro.Schema;
  const datastream = {
    type: 'record',
    name: 'BinaryEntityDatastream',
    fields: [
      { name: 'label', type: 'string' },
      { name: 'size', type: { type: 'fixed', name: 'datastream_size', size: 8 } },
      { name: 'sha256', type: 'string' },
    ],
  };
  return {
    type: 'record',
    name: 'BinaryEvent',
    fields: [
      ...common,
      { name: 'source', type: { type: 'record', name: 'EventSource', fields: [{ name: 'name', type: 'string' }] } },
      { name: 'entity', type: { type: 'record', name: 'BinaryEntity', fields: [{ name: 'datastreams', type: { type: 'array', items: datastream } }] } },
    ],
  } as avro.Schema;
}

/** Azul writes a datastream's size as an unsigned 64-bit big-endian fixed. */
function declaredSize(fixed: Buffer): number {
  const size = fixed.readBigUInt64BE();
  return size > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(size);
}

const readers = new Map<AzulModel, { read(buf: Buffer): unknown }>();

interface Projected {
  model_version: bigint;
  kafka_key: string;
  timestamp: bigint;
  source?: { name: string };
  entity?: { datastreams: { label: string; size: Buffer; sha256: string }[] };
}

/** Why an event cannot go into an azul bundle (it is kept elsewhere instead, see the layout docs). */
export class InvalidEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEventError';
  }
}

/**
 * Decodes only the fields a backup needs (the rest is skipped, not built).
 * Throws InvalidEventError for bytes that are not a whole v6 event of the model.
 */
export function readEventFields(model: AzulModel, bytes: Buffer): EventFields {
  let reader = readers.get(model);
  if (!reader) readers.set(model, (reader = projection(eventType(model), fieldsSchema(model))));
  let value: Projected;
  try {
    value = reader.read(bytes) as Projected;
  } catch (err) {
    throw new InvalidEventError(`not a ${model} event of model version ${AZUL_MODEL_VERSION}: ${(err as Error).message}`);
  }
  if (value.model_version !== AZUL_MODEL_VERSION) throw new InvalidEventError(`model_version ${value.model_version}, only ${AZUL_MODEL_VERSION} is supported`);
  if (!/^[^/\\\x00-\x1f]+$/.test(value.kafka_key)) throw new InvalidEventError(`kafka_key "${value.kafka_key}" is empty or cannot be part of a key`);
  const source = value.source?.name ?? '';
  const streams = (value.entity?.datastreams ?? []).map((d) => ({ source, label: d.label, sha256: d.sha256, size: declaredSize(d.size) }));
  for (const s of streams) {
    if (!/^[0-9a-f]{64}$/.test(s.sha256)) throw new InvalidEventError(`datastream ${s.label} has sha256 "${s.sha256}", not 64 hex digits`);
    if (!/^[A-Za-z0-9._-]+$/.test(s.label) || !/^[A-Za-z0-9._-]+$/.test(source))
      throw new InvalidEventError(`datastream source "${source}" or label "${s.label}" cannot be part of a key`);
  }
  return { kafkaKey: value.kafka_key, timestampMicros: value.timestamp, streams };
}
