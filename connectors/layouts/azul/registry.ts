import avro from 'avsc';
import support from './schemas/v6/0_support.json' with { type: 'json' };
import binary from './schemas/v6/1_binary.json' with { type: 'json' };
import del from './schemas/v6/2_delete.json' with { type: 'json' };
import download from './schemas/v6/2_download.json' with { type: 'json' };
import insert from './schemas/v6/2_insert.json' with { type: 'json' };
import plugin from './schemas/v6/2_plugin.json' with { type: 'json' };
import retrohunt from './schemas/v6/2_retrohunt.json' with { type: 'json' };
import status from './schemas/v6/2_status.json' with { type: 'json' };
import collections from './schemas/v6/3_collections.json' with { type: 'json' };

/** The model version whose schemas coldstore carries (Azul's v6, compatible with Azul 10). */
export const AZUL_MODEL_VERSION = 6n;

/** Azul event models and the record each is encoded with. */
export const AZUL_MODELS = {
  binary: 'BinaryEvent',
  delete: 'DeleteEvent',
  download: 'DownloadEvent',
  insert: 'InsertEvent',
  plugin: 'PluginEvent',
  retrohunt: 'RetrohuntEvent',
  status: 'StatusEvent',
} as const;
export type AzulModel = keyof typeof AZUL_MODELS;

export function isAzulModel(name: string): name is AzulModel {
  return Object.hasOwn(AZUL_MODELS, name);
}

/**
 * Some delete events carry longs beyond 2^53; the default long type refuses them,
 * so every long is a BigInt (exact, and the same type in every schema).
 */
const bigLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(n);
    return buf;
  },
  fromJSON: (json: unknown) => BigInt(json as number | string),
  toJSON: (n: bigint) => (n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString()),
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
});

const KEYWORDS = new Set(['record', 'enum', 'fixed', 'array', 'map', 'null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

/**
 * Azul's schemas sometimes reference a named type as `{"name": X, "type": X}`
 * (accepted by its Go decoder, refused by avsc); that is the plain reference `X`.
 */
function normalize(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(normalize);
  if (schema === null || typeof schema !== 'object') return schema;
  const node = schema as Record<string, unknown>;
  if (typeof node.type === 'string' && !KEYWORDS.has(node.type)) return node.type;
  // Timestamps stay plain longs (BigInt microseconds): avsc builds `{"type": "long", …}` objects without the registry's long.
  if (node.type === 'long') return 'long';
  const out: Record<string, unknown> = { ...node };
  if (typeof node.type === 'object') out.type = normalize(node.type);
  if (Array.isArray(node.fields)) out.fields = node.fields.map((f: Record<string, unknown>) => ({ ...f, type: normalize(f.type) }));
  if (node.items !== undefined) out.items = normalize(node.items);
  if (node.values !== undefined) out.values = normalize(node.values);
  return out;
}

let registry: Record<string, avro.Type> | undefined;

/** Every v6 type, loaded in file-name order into one registry (later files refer to earlier ones). */
function azulRegistry(): Record<string, avro.Type> {
  if (registry) return registry;
  const types: Record<string, avro.Type> = { long: bigLong };
  for (const file of [support, binary, del, download, insert, plugin, retrohunt, status, collections]) {
    for (const schema of Array.isArray(file) ? file : [file]) avro.Type.forSchema(normalize(schema) as avro.Schema, { registry: types });
  }
  registry = types;
  return types;
}

/** The full event type of a model (writer schema of the bytes on its topic). */
export function eventType(model: AzulModel): avro.Type {
  return azulRegistry()[AZUL_MODELS[model]]!;
}

/** `Bulk<Model>Event {model_version, events}`: the body of a backup bundle and of a dispatcher bulk post. */
export function bulkType(model: AzulModel): avro.Type {
  return azulRegistry()[`Bulk${AZUL_MODELS[model]}`]!;
}

/** A type that reads `fields` of a record from bytes written with `writer`, skipping the rest. */
export function projection(writer: avro.Type, schema: avro.Schema): { read(buf: Buffer): unknown } {
  const reader = avro.Type.forSchema(normalize(schema) as avro.Schema, { registry: { long: bigLong } });
  const resolver = reader.createResolver(writer);
  return { read: (buf: Buffer) => reader.fromBuffer(buf, resolver) };
}
