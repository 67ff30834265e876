// Azul's real encoded test vectors (test/fixtures/azul/events, vendored with their license) and binary events built from
// them with chosen datastreams, for tests of the azul layout and the dispatcher restore.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { eventType, type AzulModel } from '../../connectors/layouts/azul/registry.js';

export const AZUL_EVENTS_DIR = fileURLToPath(new URL('../fixtures/azul/events/', import.meta.url));

export interface Vector {
  name: string;
  bytes: Buffer;
  kafkaKey: string;
  /** The event's timestamp exactly as Azul's JSON form writes it. */
  timestamp: string;
}

/** Every single-event vector of a model (not the bulk ones), in file-name order. */
export function vectorEvents(model: AzulModel): Vector[] {
  const dir = `${AZUL_EVENTS_DIR}${model}/`;
  return readdirSync(dir)
    .filter((n) => n.endsWith('.json.avro') && !n.startsWith('bulk'))
    .sort()
    .map((n) => {
      const json = JSON.parse(readFileSync(`${dir}${n.slice(0, -'.avro'.length)}`, 'utf8')) as { kafka_key: string; timestamp: string };
      return { name: n, bytes: readFileSync(`${dir}${n}`), kafkaKey: json.kafka_key, timestamp: json.timestamp };
    });
}

/**
 * A binary event re-encoded from a real vector with the given source, key,
 * timestamp and datastreams (the copy's bytes are what the test then expects back).
 */
export function binaryEvent(args: {
  source: string;
  kafkaKey: string;
  timestampMicros: bigint;
  streams: { label: string; sha256: string; size?: number }[];
}): Buffer {
  const type = eventType('binary');
  const base = type.fromBuffer(readFileSync(`${AZUL_EVENTS_DIR}binary/augmented.json.avro`)) as any;
  const template = base.entity.datastreams[0];
  base.source.name = args.source;
  base.kafka_key = args.kafkaKey;
  base.timestamp = args.timestampMicros;
  const fixedSize = (size: number) => {
    const buf = Buffer.alloc(8);
    buf.writeBigUInt64BE(BigInt(size));
    return buf;
  };
  base.entity.datastreams = args.streams.map((s) => ({
    ...template,
    label: s.label,
    sha256: s.sha256,
    ...(s.size === undefined ? {} : { size: fixedSize(s.size) }),
  }));
  return type.toBuffer(base);
}

/**
 * A real binary vector with each datastream's blob swapped for one the test serves
 * (`blobFor(label, i)` gives its sha256 and size): everything else of the event is as
 * Azul encoded it. The vectors refer to blobs the fixtures do not hold.
 */
export function withServedStreams(vector: Buffer, blobFor: (label: string, i: number) => { sha256: string; size: number }): Buffer {
  const type = eventType('binary');
  const event = type.fromBuffer(vector) as any;
  const fixedSize = (size: number) => {
    const buf = Buffer.alloc(8);
    buf.writeBigUInt64BE(BigInt(size));
    return buf;
  };
  const datastreams = (event.entity?.datastreams ?? []) as { label: string; sha256: string; size: unknown }[];
  event.entity.datastreams = datastreams.map((d, i) => {
    const blob = blobFor(d.label, i);
    return { ...d, sha256: blob.sha256, size: d.size === null || d.size === undefined ? d.size : fixedSize(blob.size) };
  });
  return type.toBuffer(event);
}
