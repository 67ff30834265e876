import { createHash } from 'node:crypto';
import avro from 'avsc';
import type { SinkRecord, TimestampType } from '../../../runtime/api/index.js';
import { decodeBlocks, readAvroContainer } from './avro-container.js';
import { sha256Hex } from '../../common/sha256.js';
import { MetadataName } from '../metadata-names.js';
import { OpenKafkaBundle } from './open-bundle.js';
import { kafkaRecordType } from './record-schema.js';

export { KAFKA_RECORD_SCHEMA } from './record-schema.js';
export const FORMAT_KAFKA_V1 = 'kafka-v1';

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

export interface EncodedBundle {
  /** The uncompressed Avro container. */
  container: Buffer;
  metadata: Record<string, string>;
}

/**
 * A sealed bundle's container, compressed body and metadata: gzip and the body's
 * sha256 both run on the threadpool, side by side. `encodeKafkaBundle` is the same for
 * records at hand, on the calling thread.
 */
export async function sealKafkaBundle(
  bundle: OpenKafkaBundle,
  key: string,
  start: bigint,
  end: bigint,
  compress: (container: Buffer) => Promise<Buffer>,
): Promise<EncodedBundle & { body: Buffer }> {
  const container = bundle.container(key);
  const [body, sha256] = await Promise.all([compress(container), sha256Hex(container)]);
  return { container, body, metadata: kafkaBundleMetadata(bundle, start, end, container, sha256) };
}

/** Encodes one bundle (records of one partition, in offset order) and its object metadata. */
export function encodeKafkaBundle(key: string, start: bigint, end: bigint, records: readonly SinkRecord[]): EncodedBundle {
  const bundle = new OpenKafkaBundle();
  for (const record of records) bundle.add(record);
  const container = bundle.container(key);
  return { container, metadata: kafkaBundleMetadata(bundle, start, end, container, createHash('sha256').update(container).digest('hex')) };
}

function kafkaBundleMetadata(bundle: OpenKafkaBundle, start: bigint, end: bigint, container: Buffer, sha256: string): Record<string, string> {
  const figures = bundle.recordFigures;
  return {
    [MetadataName.format]: FORMAT_KAFKA_V1,
    [MetadataName.records]: String(figures.records),
    [MetadataName.rangeStart]: start.toString(),
    [MetadataName.rangeEnd]: end.toString(),
    [MetadataName.firstOffset]: figures.firstOffset.toString(),
    [MetadataName.lastOffset]: figures.lastOffset.toString(),
    [MetadataName.minTimestamp]: String(figures.minTimestamp),
    [MetadataName.maxTimestamp]: String(figures.maxTimestamp),
    [MetadataName.firstTimestamp]: String(figures.firstTimestamp),
    [MetadataName.lastTimestamp]: String(figures.lastTimestamp),
    [MetadataName.bodySha256]: sha256,
    [MetadataName.bodyBytes]: String(container.length),
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
  if (!writerType.equals(kafkaRecordType)) throw new Error('the container holds records of another schema than coldstore.v1.KafkaRecord');
  // Converted in place: a restore decodes every record, and a copy of each would double the garbage.
  const records = decodeBlocks<AvroKafkaRecord>(parsed, kafkaRecordType) as unknown as (Omit<AvroKafkaRecord, 'offset'> & { offset: number | bigint })[];
  for (const r of records) r.offset = BigInt(r.offset);
  return records as BackedUpRecord[];
}
