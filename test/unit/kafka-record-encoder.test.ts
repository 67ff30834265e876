// The kafka-v1 bundle encoder writes records straight into one buffer as they arrive
// (connectors/layouts/kafka-v1/record-encoder.ts). Its bytes must be exactly what the
// generic Avro encoder (avsc) writes for the schema in docs/formats.md, container and
// block cuts included: a rebuilt bundle is compared with the stored one.
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import type { SinkRecord, TimestampType } from '../../runtime/api/index.js';
import { AvroContainerWriter, BLOCK_BYTES, syncMarkerFor } from '../../connectors/layouts/kafka-v1/avro-container.js';
import { decodeKafkaBundle, encodeKafkaBundle, sealKafkaBundle } from '../../connectors/layouts/kafka-v1/bundle-codec.js';
import { OpenKafkaBundle } from '../../connectors/layouts/kafka-v1/open-bundle.js';
import { KafkaRecordEncoder } from '../../connectors/layouts/kafka-v1/record-encoder.js';
import { KAFKA_SCHEMA_JSON, kafkaRecordType } from '../../connectors/layouts/kafka-v1/record-schema.js';
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';

/** A small deterministic generator (mulberry32), so a failure replays. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TYPES: TimestampType[] = ['CREATE_TIME', 'LOG_APPEND_TIME', 'NOT_AVAILABLE'];
const TIMESTAMPS = [-1, 0, 1, 63, 64, 2 ** 30 - 1, 2 ** 30, -(2 ** 30), -(2 ** 30) - 1, 2 ** 31, 1_765_000_000_000, 2 ** 53 - 2, -(2 ** 50)];
const HEADER_KEYS = ['', 'trace-id', 'clé', '键', 'emoji-🎉', 'x'.repeat(200)];

/** Random bytes; long ones repeat a random pattern (generating each byte would take seconds). */
function bytes(next: () => number, length: number): Buffer {
  const pattern = Buffer.allocUnsafe(Math.min(length, 257));
  for (let i = 0; i < pattern.length; i++) pattern[i] = Math.floor(next() * 256);
  return length === pattern.length ? pattern : Buffer.alloc(length, pattern);
}

/** A record as comparable text: decoded records are avsc class instances, and deep equality of large buffers is slow. */
function digest(r: SinkRecord): string {
  const hex = (b: Buffer | null) => (b === null ? 'null' : createHash('sha256').update(b).digest('hex'));
  return [r.topic, r.partition, r.offset, r.timestamp, r.timestampType, hex(r.key), hex(r.value), ...r.headers.map((h) => `${h.key}=${hex(h.value)}`)].join(
    '|',
  );
}

function maybeBytes(next: () => number, large: boolean): Buffer | null {
  const pick = next();
  if (pick < 0.15) return null;
  if (pick < 0.25) return Buffer.alloc(0);
  return bytes(next, large ? 200_000 + Math.floor(next() * 200_000) : Math.floor(next() * 300));
}

function records(seed: number, count: number, firstOffset: bigint, largeShare = 0, topic = 'orders', partition = 3): SinkRecord[] {
  const next = random(seed);
  const out: SinkRecord[] = [];
  let offset = firstOffset;
  for (let i = 0; i < count; i++) {
    offset += BigInt(1 + Math.floor(next() * 3));
    const headers = Array.from({ length: Math.floor(next() * 4) }, () => ({
      key: HEADER_KEYS[Math.floor(next() * HEADER_KEYS.length)]!,
      value: maybeBytes(next, false),
    }));
    out.push({
      topic,
      partition,
      offset,
      timestamp: TIMESTAMPS[Math.floor(next() * TIMESTAMPS.length)]!,
      timestampType: TYPES[Math.floor(next() * TYPES.length)]!,
      key: maybeBytes(next, false),
      value: maybeBytes(next, next() < largeShare),
      headers,
    });
  }
  return out;
}

/** The container avsc writes for the same records: the reference. */
function avscContainer(key: string, input: readonly SinkRecord[]): Buffer {
  const writer = new AvroContainerWriter(kafkaRecordType, KAFKA_SCHEMA_JSON, syncMarkerFor(key));
  for (const r of input) writer.append({ ...r, offset: Number(r.offset) });
  return writer.finish();
}

describe('kafka-v1 record encoder', () => {
  it('writes every Avro long exactly as avsc does, at each varint and zig-zag boundary', () => {
    const values = [
      0,
      1,
      -1,
      63,
      -64,
      64,
      -65,
      8191,
      8192,
      2 ** 30 - 1,
      2 ** 30,
      -(2 ** 30),
      -(2 ** 30) - 1,
      2 ** 31,
      2 ** 32,
      2 ** 35 + 7,
      2 ** 52,
      2 ** 53 - 2,
      -(2 ** 53) + 2,
    ];
    const encoder = new KafkaRecordEncoder();
    for (const n of values) {
      const before = encoder.length;
      encoder.writeLong(n);
      expect(encoder.view(before, encoder.length), String(n)).toEqual(avro.Type.forSchema('long').toBuffer(n));
    }
  });

  it.each([
    ['small records with headers, nulls and empties', 1, 2_000, 0n, 0],
    ['large values spanning several 1 MiB blocks', 2, 120, 10n ** 6n, 0.3],
    ['offsets near 2^53', 3, 50, BigInt(Number.MAX_SAFE_INTEGER) - 400n, 0],
  ])('writes the container avsc writes: %s', (_name, seed, count, first, largeShare) => {
    const input = records(seed, count, first, largeShare);
    const key = `orders/3/${input[0]!.offset}-${input[input.length - 1]!.offset}.avro.gz`;
    const reference = avscContainer(key, input);
    const { container, metadata } = encodeKafkaBundle(key, input[0]!.offset, input[input.length - 1]!.offset, input);
    expect(container.equals(reference)).toBe(true);
    expect(metadata['coldstore-body-sha256']).toBe(createHash('sha256').update(reference).digest('hex'));
    expect(decodeKafkaBundle(container).map(digest)).toEqual(input.map(digest));
  });

  it('cuts blocks where avsc cuts them: more than one block for more than BLOCK_BYTES of records', () => {
    const input = records(2, 120, 0n, 0.3);
    const total = input.reduce((n, r) => n + (r.value?.length ?? 0), 0);
    expect(total).toBeGreaterThan(2 * BLOCK_BYTES);
    const key = 'orders/3/a.avro.gz';
    const syncs = (buf: Buffer) => buf.toString('latin1').split(syncMarkerFor(key).toString('latin1')).length - 1;
    expect(syncs(encodeKafkaBundle(key, 0n, 999n, input).container)).toBe(syncs(avscContainer(key, input)));
    expect(syncs(avscContainer(key, input))).toBeGreaterThan(2);
  });

  it('a bundle sealed with gzip and sha256 on the threadpool has the bytes and metadata of one encoded at once', async () => {
    const input = records(4, 500, 41n, 0, 'payments', 11);
    const open = new OpenKafkaBundle();
    for (const r of input) open.add(r);
    expect(open.records).toBe(500);
    const key = 'payments/11/x.avro.gz';
    const first = input[0]!.offset;
    const last = input[input.length - 1]!.offset;
    const { container, body, metadata } = await sealKafkaBundle(open, key, first - 1n, last + 5n, async (raw) => gzipSync(raw));
    const atOnce = encodeKafkaBundle(key, first - 1n, last + 5n, input);
    expect(container.equals(atOnce.container)).toBe(true);
    expect(metadata).toEqual(atOnce.metadata);
    expect(gunzipSync(body).equals(container)).toBe(true);
  });

  it('refuses an offset from 2^53 - 1 on, and a timestamp the format cannot hold exactly, before writing any of it', () => {
    const [record] = records(5, 1, 0n);
    const bundle = new OpenKafkaBundle();
    expect(() => bundle.add({ ...record!, offset: BigInt(Number.MAX_SAFE_INTEGER) })).toThrow(/exceeds 2\^53 - 2/);
    // A producer writing nanoseconds: rounded, it could not be read back.
    expect(() => bundle.add({ ...record!, timestamp: 1_765_000_000_000_000_000 })).toThrow(/cannot hold exactly/);
    expect(() => bundle.add({ ...record!, timestamp: -(2 ** 53) + 1 })).toThrow(/cannot hold exactly/);
    expect(bundle.encodedBytes).toBe(new OpenKafkaBundle().encodedBytes);
    bundle.add({ ...record!, timestamp: -(2 ** 53) + 2 });
    expect(bundle.records).toBe(1);
  });

  it('gives the same container again for the same key (assembling moves blocks once), and refuses another key or more records', () => {
    const input = records(2, 120, 0n, 0.3);
    const bundle = new OpenKafkaBundle();
    for (const r of input) bundle.add(r);
    const first = Buffer.from(bundle.container('orders/3/k.avro.gz'));
    expect(bundle.container('orders/3/k.avro.gz').equals(first)).toBe(true);
    expect(first.equals(avscContainer('orders/3/k.avro.gz', input))).toBe(true);
    expect(() => bundle.container('orders/3/other.avro.gz')).toThrow(/sealed as/);
    expect(() => bundle.add(input[0]!)).toThrow(/sealed/);
  });
});
