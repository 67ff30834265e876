import { isUtf8 } from 'node:buffer';
import type { TimestampType } from '../../../runtime/api/index.js';
import type { BackedUpRecord } from '../../layouts/kafka-v1/bundle-codec.js';

/**
 * How keys, values and header values are written as JSON strings. `auto`: as UTF-8
 * text when the bytes are valid UTF-8, otherwise base64, flagged by a
 * `keyEncoding`/`valueEncoding` field of "base64" next to that field. An explicit
 * encoding applies to every field and adds no flags (`utf8` then replaces invalid
 * bytes with U+FFFD, so use it only for text).
 */
export const RECORD_ENCODINGS = ['auto', 'utf8', 'base64', 'hex'] as const;
export type RecordEncoding = (typeof RECORD_ENCODINGS)[number];

export type HeaderJson = { key: string; value: string | null; valueEncoding?: 'base64' };

/** A backed-up record as plain JSON. Offsets are numbers: coldstore never writes offsets of 2^53 or more. */
export type RecordJson = {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  timestampType: TimestampType;
  key: string | null;
  keyEncoding?: 'base64';
  value: string | null;
  valueEncoding?: 'base64';
  headers: HeaderJson[];
};

/** The text of one binary field, and whether `auto` fell back to base64. */
function encodeBytes(bytes: Buffer | null, encoding: RecordEncoding): { text: string | null; base64Fallback: boolean } {
  if (bytes === null) return { text: null, base64Fallback: false };
  if (encoding !== 'auto') return { text: bytes.toString(encoding), base64Fallback: false };
  return isUtf8(bytes) ? { text: bytes.toString('utf8'), base64Fallback: false } : { text: bytes.toString('base64'), base64Fallback: true };
}

export function recordToJson(record: BackedUpRecord, encoding: RecordEncoding = 'auto'): RecordJson {
  const key = encodeBytes(record.key, encoding);
  const value = encodeBytes(record.value, encoding);
  return {
    topic: record.topic,
    partition: record.partition,
    offset: Number(record.offset),
    timestamp: record.timestamp,
    timestampType: record.timestampType,
    key: key.text,
    ...(key.base64Fallback ? { keyEncoding: 'base64' as const } : {}),
    value: value.text,
    ...(value.base64Fallback ? { valueEncoding: 'base64' as const } : {}),
    headers: record.headers.map((header) => {
      const headerValue = encodeBytes(header.value, encoding);
      return { key: header.key, value: headerValue.text, ...(headerValue.base64Fallback ? { valueEncoding: 'base64' as const } : {}) };
    }),
  };
}

/**
 * A decoded Avro value (an azul event) as plain JSON: longs (BigInt) as decimal
 * strings, exact whatever their size; bytes and fixed values as base64 (`auto`),
 * or in the encoding asked for.
 */
export function avroValueToJson(value: unknown, encoding: RecordEncoding = 'auto'): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (Buffer.isBuffer(value)) return value.toString(encoding === 'auto' ? 'base64' : encoding);
  if (Array.isArray(value)) return value.map((item) => avroValueToJson(item, encoding));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, avroValueToJson(v, encoding)]));
  return value;
}
