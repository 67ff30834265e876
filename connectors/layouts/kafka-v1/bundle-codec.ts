import { createHash } from 'node:crypto';
import avro from 'avsc';
import type { SinkRecord, TimestampType } from '../../../runtime/api/index.js';
import { AvroContainerWriter, decodeBlocks, readAvroContainer, syncMarkerFor } from './avro-container.js';
import { MetadataName } from '../metadata-names.js';

/** The `kafka` layout's record schema, exactly as docs/formats.md states it. */
export const KAFKA_RECORD_SCHEMA = {
  type: 'record',
  name: 'KafkaRecord',
  namespace: 'coldstore.v1',
  fields: [
    { name: 'topic', type: 'string' },
    { name: 'partition', type: 'int' },
    { name: 'offset', type: 'long' },
    { name: 'timestamp', type: 'long' },
    { name: 'timestampType', type: { type: 'enum', name: 'TimestampType', symbols: ['CREATE_TIME', 'LOG_APPEND_TIME', 'NOT_AVAILABLE'] } },
    { name: 'key', type: ['null', 'bytes'] },
    { name: 'value', type: ['null', 'bytes'] },
    {
      name: 'headers',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'Header',
          fields: [
            { name: 'key', type: 'string' },
            { name: 'value', type: ['null', 'bytes'] },
          ],
        },
      },
    },
  ],
} as const;

export const FORMAT_KAFKA_V1 = 'kafka-v1';
const SCHEMA_JSON = JSON.stringify(KAFKA_RECORD_SCHEMA);
const recordType = avro.Type.forSchema(KAFKA_RECORD_SCHEMA as unknown as avro.Schema);

interface AvroKafkaRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  timestampType: TimestampType;
  key: Buffer | null;
  value: Buffer | null;
  headers: { key: string; value: Buffer | null }[];
}

/** Offsets from 2^53 - 1 on cannot be carried by avsc's default long; Kafka's never get near. */
function safeNumber(offset: bigint): number {
  if (offset >= BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`Offset ${offset} exceeds 2^53 - 2 and cannot be encoded`);
  return Number(offset);
}

export interface EncodedBundle {
  /** The uncompressed Avro container. */
  container: Buffer;
  metadata: Record<string, string>;
}

/** Encodes one bundle (records of one partition, in offset order) and its object metadata. */
export function encodeKafkaBundle(key: string, start: bigint, end: bigint, records: readonly SinkRecord[]): EncodedBundle {
  let bytes = 0;
  let minTs = Number.POSITIVE_INFINITY;
  let maxTs = Number.NEGATIVE_INFINITY;
  for (const r of records) {
    bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0) + 64;
    for (const h of r.headers) bytes += h.key.length + (h.value?.length ?? 0) + 8;
    if (r.timestamp < minTs) minTs = r.timestamp;
    if (r.timestamp > maxTs) maxTs = r.timestamp;
  }
  const writer = new AvroContainerWriter<AvroKafkaRecord>(recordType, SCHEMA_JSON, syncMarkerFor(key), bytes + 1024);
  for (const r of records) {
    writer.append({
      topic: r.topic,
      partition: r.partition,
      offset: safeNumber(r.offset),
      timestamp: r.timestamp,
      timestampType: r.timestampType,
      key: r.key,
      value: r.value,
      headers: r.headers,
    });
  }
  const container = writer.finish();
  const first = records[0]!;
  const last = records[records.length - 1]!;
  return {
    container,
    metadata: {
      [MetadataName.format]: FORMAT_KAFKA_V1,
      [MetadataName.records]: String(records.length),
      [MetadataName.rangeStart]: start.toString(),
      [MetadataName.rangeEnd]: end.toString(),
      [MetadataName.firstOffset]: first.offset.toString(),
      [MetadataName.lastOffset]: last.offset.toString(),
      [MetadataName.minTimestamp]: String(minTs),
      [MetadataName.maxTimestamp]: String(maxTs),
      [MetadataName.firstTimestamp]: String(first.timestamp),
      [MetadataName.lastTimestamp]: String(last.timestamp),
      [MetadataName.bodySha256]: createHash('sha256').update(container).digest('hex'),
      [MetadataName.bodyBytes]: String(container.length),
    },
  };
}

/** A record read back from a bundle: exactly what the sink received. */
export type BackedUpRecord = SinkRecord;

/** Decodes a bundle's uncompressed container; throws if it is not a kafka-v1 container or is damaged. */
export function decodeKafkaBundle(container: Buffer): BackedUpRecord[] {
  const parsed = readAvroContainer(container);
  if (parsed.codec !== 'null') throw new Error(`unexpected Avro codec ${parsed.codec}`);
  let writerType: avro.Type;
  try {
    writerType = avro.Type.forSchema(JSON.parse(parsed.schemaJson) as avro.Schema);
  } catch (err) {
    throw new Error(`unreadable schema in the container header: ${(err as Error).message}`);
  }
  if (!writerType.equals(recordType)) throw new Error('the container holds records of another schema than coldstore.v1.KafkaRecord');
  // Converted in place: a restore decodes every record, and a copy of each would double the garbage.
  const records = decodeBlocks<AvroKafkaRecord>(parsed, recordType) as unknown as (Omit<AvroKafkaRecord, 'offset'> & { offset: number | bigint })[];
  for (const r of records) r.offset = BigInt(r.offset);
  return records as BackedUpRecord[];
}
