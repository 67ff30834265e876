// decodeKafkaBundle (connectors/common/formats/kafka-v1.ts), the restore side of the
// kafka-v1 format: what encodeKafkaBundle wrote comes back exactly, and containers
// that are not kafka-v1 or are damaged are refused.
import { createHash } from 'node:crypto';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import type { SinkRecord } from '../../runtime/api/index.js';
import { AvroContainerWriter, syncMarkerFor } from '../../connectors/layouts/kafka-v1/avro-container.js';
import { decodeKafkaBundle, encodeKafkaBundle, KAFKA_RECORD_SCHEMA } from '../../connectors/layouts/kafka-v1/bundle-codec.js';
import { kafkaBundleKey } from '../../connectors/layouts/kafka-v1/bundle-keys.js';

const KEY = kafkaBundleKey('orders', 3, 100n, 199n);
const recordType = avro.Type.forSchema(KAFKA_RECORD_SCHEMA as unknown as avro.Schema);
const longType = avro.Type.forSchema('long');
const metaType = avro.Type.forSchema({ type: 'map', values: 'bytes' });
const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]);

function rec(offset: bigint, over: Partial<SinkRecord> = {}): SinkRecord {
  return {
    topic: 'orders',
    partition: 3,
    offset,
    timestamp: 1_700_000_000_000 + Number(offset),
    timestampType: 'CREATE_TIME',
    key: Buffer.from(`k${offset}`),
    value: Buffer.from(`v${offset}`),
    headers: [],
    ...over,
  };
}

function varied(): SinkRecord[] {
  return [
    rec(100n, { key: null, value: null }),
    rec(101n, { key: Buffer.alloc(0), value: Buffer.alloc(0) }),
    rec(102n, { key: null, value: Buffer.alloc(0), timestamp: -1, timestampType: 'NOT_AVAILABLE' }),
    rec(103n, { key: Buffer.alloc(0), value: null, timestamp: 0, timestampType: 'LOG_APPEND_TIME' }),
    rec(110n, {
      headers: [
        { key: 'dup', value: Buffer.from('first') },
        { key: 'nul', value: null },
        { key: 'empty', value: Buffer.alloc(0) },
        { key: 'dup', value: Buffer.from('second') },
        { key: '', value: Buffer.from([0, 1, 255]) },
        { key: 'dup', value: null },
      ],
    }),
    rec(150n, { key: Buffer.from([0xff, 0x00, 0x80]), value: Buffer.alloc(70_000, 7), timestamp: 8_640_000_000_000 }),
    rec(199n, { timestamp: 1 }),
  ];
}

/** A container with one block holding exactly `data` as its `count` records. */
function containerWithBlock(count: number, data: Buffer, schema: unknown = KAFKA_RECORD_SCHEMA, codec = 'null'): Buffer {
  const sync = syncMarkerFor(KEY);
  return Buffer.concat([
    MAGIC,
    metaType.toBuffer({ 'avro.schema': Buffer.from(JSON.stringify(schema)), 'avro.codec': Buffer.from(codec) }),
    sync,
    longType.toBuffer(count),
    longType.toBuffer(data.length),
    data,
    sync,
  ]);
}

/** A cheap-to-compare form: buffers as length + sha256 (null stays null), offsets as their type and value. */
function digest(records: readonly { offset: bigint; key: Buffer | null; value: Buffer | null; headers: { key: string; value: Buffer | null }[] }[]): unknown[] {
  const b = (buf: Buffer | null) => (buf === null ? null : `${buf.length}:${createHash('sha256').update(buf).digest('hex')}`);
  return records.map((r) => ({
    ...r,
    offset: `${typeof r.offset}:${r.offset}`,
    key: b(r.key),
    value: b(r.value),
    headers: r.headers.map((h) => ({ key: h.key, value: b(h.value) })),
  }));
}

const avroRecord = (r: SinkRecord) => recordType.toBuffer({ ...r, offset: Number(r.offset) });

describe('decodeKafkaBundle', () => {
  it('round-trips encodeKafkaBundle: null vs empty, duplicate headers in order, timestamps, bigint offsets', () => {
    const records = varied();
    const { container } = encodeKafkaBundle(KEY, 100n, 199n, records);
    const decoded = decodeKafkaBundle(container);
    expect(digest(decoded)).toEqual(digest(records));
    expect(decoded.map((r) => typeof r.offset)).toEqual(records.map(() => 'bigint'));
    // Spelled out, since toEqual is the whole test: null and empty stay apart.
    expect(decoded[0]?.key).toBeNull();
    expect(decoded[0]?.value).toBeNull();
    expect(decoded[1]?.key).toEqual(Buffer.alloc(0));
    expect(decoded[1]?.value).toEqual(Buffer.alloc(0));
    expect(decoded[2]?.timestamp).toBe(-1);
    expect(decoded[2]?.timestampType).toBe('NOT_AVAILABLE');
    expect(decoded[3]?.timestampType).toBe('LOG_APPEND_TIME');
    expect(decoded[4]?.headers.map((h) => [h.key, h.value === null ? null : h.value.toString('hex')])).toEqual([
      ['dup', Buffer.from('first').toString('hex')],
      ['nul', null],
      ['empty', ''],
      ['dup', Buffer.from('second').toString('hex')],
      ['', '0001ff'],
      ['dup', null],
    ]);
    expect(decoded[5]?.timestamp).toBe(8_640_000_000_000);
    expect(decoded.map((r) => r.offset)).toEqual([100n, 101n, 102n, 103n, 110n, 150n, 199n]);
  });

  it('round-trips offsets up to 2^53 - 2 exactly', () => {
    const big = 2n ** 53n - 2n;
    const key = kafkaBundleKey('orders', 3, big - 1n, big);
    const records = [rec(big - 1n, { timestamp: 5 }), rec(big, { timestamp: 6 })];
    const decoded = decodeKafkaBundle(encodeKafkaBundle(key, big - 1n, big, records).container);
    expect(decoded.map((r) => r.offset)).toEqual([big - 1n, big]);
  });

  it('round-trips a bundle spanning several blocks', () => {
    const value = Buffer.alloc(300_000, 0x62);
    const records = Array.from({ length: 9 }, (_, i) => rec(BigInt(100 + i), { value, headers: [{ key: 'i', value: Buffer.from([i]) }] }));
    const { container } = encodeKafkaBundle(KEY, 100n, 199n, records);
    expect(container.length).toBeGreaterThan(2 * 1024 * 1024);
    const decoded = decodeKafkaBundle(container);
    expect(decoded).toHaveLength(9);
    expect(digest(decoded)).toEqual(digest(records));
    expect(decoded.every((r) => r.value?.equals(value))).toBe(true);
  });

  it('reads a hand-built single-block container (the test builder is right)', () => {
    const records = [rec(100n), rec(101n, { key: null })];
    const decoded = decodeKafkaBundle(containerWithBlock(2, Buffer.concat(records.map(avroRecord))));
    expect(decoded).toEqual(records);
  });

  it('refuses a container of another schema', () => {
    const otherSchema = { type: 'record', name: 'Other', fields: [{ name: 'x', type: 'long' }] };
    const otherType = avro.Type.forSchema(otherSchema as avro.Schema);
    const writer = new AvroContainerWriter<{ x: number }>(otherType, JSON.stringify(otherSchema), syncMarkerFor(KEY));
    writer.append({ x: 1 });
    expect(() => decodeKafkaBundle(writer.finish())).toThrow(/another schema/);
  });

  it('refuses a schema that differs from KafkaRecord only slightly', () => {
    // Same name and fields, but the key is not nullable.
    const altered = {
      ...KAFKA_RECORD_SCHEMA,
      fields: KAFKA_RECORD_SCHEMA.fields.map((f) => (f.name === 'key' ? { name: 'key', type: 'bytes' } : f)),
    };
    const alteredType = avro.Type.forSchema(altered as unknown as avro.Schema);
    const data = alteredType.toBuffer({ ...rec(100n), offset: 100 });
    expect(() => decodeKafkaBundle(containerWithBlock(1, data, altered))).toThrow(/another schema/);
  });

  it('refuses a container whose block holds bytes after its records', () => {
    const data = Buffer.concat([avroRecord(rec(100n)), avroRecord(rec(101n)), Buffer.from([0x02, 0x04, 0x06])]);
    expect(() => decodeKafkaBundle(containerWithBlock(2, data))).toThrow(/block 0 holds 3 bytes after its 2 records/);
    // One whole record too many for the count is trailing bytes too.
    const extra = Buffer.concat([avroRecord(rec(100n)), avroRecord(rec(101n))]);
    expect(() => decodeKafkaBundle(containerWithBlock(1, extra))).toThrow(/bytes after its 1 records/);
  });

  it('refuses a block claiming more records than it holds', () => {
    const data = Buffer.concat([avroRecord(rec(100n)), avroRecord(rec(101n))]);
    expect(() => decodeKafkaBundle(containerWithBlock(3, data))).toThrow(/truncated/);
  });

  it('refuses another codec, bad magic bytes, a wrong sync marker and a cut container', () => {
    const data = avroRecord(rec(100n));
    expect(() => decodeKafkaBundle(containerWithBlock(1, data, KAFKA_RECORD_SCHEMA, 'deflate'))).toThrow(/codec deflate/);
    const good = containerWithBlock(1, data);
    expect(decodeKafkaBundle(good)).toHaveLength(1);
    const badMagic = Buffer.from(good);
    badMagic[3] = 0x02;
    expect(() => decodeKafkaBundle(badMagic)).toThrow(/magic/);
    const badSync = Buffer.from(good);
    badSync[badSync.length - 1]! ^= 0xff;
    expect(() => decodeKafkaBundle(badSync)).toThrow(/sync marker mismatch/);
    for (const cut of [1, 16, 17, data.length + 16]) {
      expect(() => decodeKafkaBundle(good.subarray(0, good.length - cut)), `cut ${cut}`).toThrow(/truncated/);
    }
  });

  it('refuses a container with unreadable schema JSON', () => {
    expect(() => decodeKafkaBundle(containerWithBlock(0, Buffer.alloc(0), '{not json' as unknown))).toThrow(/unreadable schema/);
  });
});
