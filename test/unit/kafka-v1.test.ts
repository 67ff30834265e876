// The `kafka-v1` bundle encoder and key helpers, checked against docs/formats.md
// with the independent reader in test/helpers/bundle-reader.ts.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { SinkRecord } from '../../runtime/api/index.js';
import { encodeKafkaBundle } from '../../connectors/layouts/kafka-v1/bundle-codec.js';
import { kafkaBundleKey, kafkaListStartAfter, parseKafkaBundleKey } from '../../connectors/layouts/kafka-v1/bundle-keys.js';
import { checkMetadata, expectedSyncMarker, parseBundleKey, readBundle } from '../helpers/bundle-reader.js';

const MiB = 1024 * 1024;

function rec(offset: bigint, over: Partial<SinkRecord> = {}): SinkRecord {
  return {
    topic: 'orders',
    partition: 2,
    offset,
    timestamp: 1_700_000_000_000 + Number(offset % 1000n),
    timestampType: 'CREATE_TIME',
    key: Buffer.from(`k${offset}`),
    value: Buffer.from(`value of ${offset}`),
    headers: [{ key: 'h', value: Buffer.from('x') }],
    ...over,
  };
}

/** A varied bundle: null vs empty key/value, header order and duplicates, every timestamp type, offset gaps. */
function sampleRecords(): SinkRecord[] {
  return [
    rec(100n, { timestamp: 5_000, key: null, value: Buffer.alloc(0) }),
    rec(101n, { timestamp: 3_000, key: Buffer.alloc(0), value: null, timestampType: 'LOG_APPEND_TIME' }),
    rec(105n, {
      timestamp: 9_000,
      timestampType: 'NOT_AVAILABLE',
      headers: [
        { key: 'b', value: null },
        { key: 'a', value: Buffer.from([0, 255]) },
        { key: 'b', value: Buffer.alloc(0) },
      ],
    }),
    rec(107n, { timestamp: 4_000, headers: [] }),
  ];
}

/** How many times `needle` occurs in `hay` (non-overlapping). */
function occurrences(hay: Buffer, needle: Buffer): number {
  let n = 0;
  for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + needle.length)) n++;
  return n;
}

describe('encodeKafkaBundle', () => {
  const key = kafkaBundleKey('orders', 2, 100n, 109n);

  it('writes what the independent reader reads back, with spec-conformant metadata', () => {
    const records = sampleRecords();
    const { container, metadata } = encodeKafkaBundle(key, 100n, 109n, records);
    const gz = gzipSync(container);
    const read = readBundle(key, gz);
    expect(read.records.map((r) => r.offset)).toEqual([100n, 101n, 105n, 107n]);
    expect(read.records[0]?.key).toBeNull();
    expect(read.records[0]?.value).toEqual(Buffer.alloc(0));
    expect(read.records[1]?.key).toEqual(Buffer.alloc(0));
    expect(read.records[1]?.value).toBeNull();
    expect(read.records[1]?.timestampType).toBe('LOG_APPEND_TIME');
    expect(read.records[2]?.timestampType).toBe('NOT_AVAILABLE');
    expect(read.records[2]?.headers).toEqual([
      { key: 'b', value: null },
      { key: 'a', value: Buffer.from([0, 255]) },
      { key: 'b', value: Buffer.alloc(0) },
    ]);
    expect(read.records[3]?.timestamp).toBe(4_000n);
    checkMetadata(key, gz, metadata, read.records);
    expect(metadata).toMatchObject({
      'coldstore-format': 'kafka-v1',
      'coldstore-records': '4',
      'coldstore-range-start': '100',
      'coldstore-range-end': '109',
      'coldstore-first-offset': '100',
      'coldstore-last-offset': '107',
      'coldstore-min-timestamp': '3000',
      'coldstore-max-timestamp': '9000',
      'coldstore-first-timestamp': '5000',
      'coldstore-last-timestamp': '4000',
      'coldstore-body-bytes': String(container.length),
      'coldstore-body-sha256': createHash('sha256').update(container).digest('hex'),
    });
  });

  it('is deterministic: the same key and records give identical bytes and metadata', () => {
    const a = encodeKafkaBundle(key, 100n, 109n, sampleRecords());
    const b = encodeKafkaBundle(key, 100n, 109n, sampleRecords());
    expect(a.container.equals(b.container)).toBe(true);
    expect(b.metadata).toEqual(a.metadata);
    // And a different record really changes them (the comparison can fail).
    const other = sampleRecords();
    other[3] = rec(107n, { timestamp: 4_001, headers: [] });
    const c = encodeKafkaBundle(key, 100n, 109n, other);
    expect(c.container.equals(a.container)).toBe(false);
    expect(c.metadata['coldstore-body-sha256']).not.toBe(a.metadata['coldstore-body-sha256']);
  });

  it('derives the sync marker from the key: two keys give different bytes', () => {
    const key2 = kafkaBundleKey('orders', 2, 100n, 110n);
    const a = encodeKafkaBundle(key, 100n, 109n, sampleRecords()).container;
    const b = encodeKafkaBundle(key2, 100n, 110n, sampleRecords()).container;
    expect(a.equals(b)).toBe(false);
    expect(readBundle(key, gzipSync(a)).syncMarker).toEqual(expectedSyncMarker(key));
    expect(readBundle(key2, gzipSync(b)).syncMarker).toEqual(expectedSyncMarker(key2));
    expect(expectedSyncMarker(key).equals(expectedSyncMarker(key2))).toBe(false);
    // Header sync + one block: the key's marker appears exactly twice, the other key's never.
    expect(occurrences(a, expectedSyncMarker(key))).toBe(2);
    expect(occurrences(a, expectedSyncMarker(key2))).toBe(0);
    // Apart from the markers the bytes are the same.
    const strip = (buf: Buffer, marker: Buffer) => Buffer.from(buf.toString('latin1').split(marker.toString('latin1')).join(''), 'latin1');
    expect(strip(a, expectedSyncMarker(key)).equals(strip(b, expectedSyncMarker(key2)))).toBe(true);
  });

  it('gzip with node:zlib is byte-identical across calls and has no timestamp in its header', () => {
    const { container } = encodeKafkaBundle(key, 100n, 109n, sampleRecords());
    for (const level of [1, 6, 9]) {
      const first = gzipSync(container, { level });
      const second = gzipSync(container, { level });
      expect(first.equals(second), `level ${level}`).toBe(true);
      expect([...first.subarray(0, 3)], 'gzip magic + deflate').toEqual([0x1f, 0x8b, 8]);
      expect(first.readUInt32LE(4), `MTIME at level ${level}`).toBe(0);
      expect(readBundle(key, first).records).toHaveLength(4);
    }
  });

  it('starts a new block once the current one holds 1 MiB of serialized records or more', () => {
    const value = Buffer.alloc(100_000, 0x61); // 11 records per block: 10 are < 1 MiB, 11 are >= 1 MiB
    const records = Array.from({ length: 25 }, (_, i) => rec(BigInt(i), { value, key: null, headers: [] }));
    const k = kafkaBundleKey('orders', 2, 0n, 24n);
    const { container } = encodeKafkaBundle(k, 0n, 24n, records);
    // The reader enforces the split rule: every block but the last >= 1 MiB, none reached 1 MiB before its last record.
    const read = readBundle(k, gzipSync(container, { level: 1 }));
    expect(read.records.map((r) => Number(r.offset))).toEqual(records.map((_, i) => i));
    expect(read.records.every((r) => r.value?.equals(value))).toBe(true);
    // Blocks of 11, 11 and 3 records: the marker follows the header and each block.
    expect(occurrences(container, expectedSyncMarker(k))).toBe(1 + 3);
    expect(container.length).toBeGreaterThan(2 * MiB);
  });

  it('writes one block for a small bundle', () => {
    const { container } = encodeKafkaBundle(key, 100n, 109n, sampleRecords());
    expect(occurrences(container, expectedSyncMarker(key))).toBe(2);
  });

  it('refuses an offset above 2^53 with a clear error', () => {
    const big = 2n ** 53n + 1n;
    const k = kafkaBundleKey('orders', 2, big, big);
    expect(() => encodeKafkaBundle(k, big, big, [rec(big)])).toThrow(/Offset 9007199254740993 exceeds 2\^53/);
    const edge = 2n ** 53n;
    expect(() => encodeKafkaBundle(kafkaBundleKey('orders', 2, edge, edge), edge, edge, [rec(edge)])).toThrow(/exceeds 2\^53/);
    // Just below: encodes, exactly.
    const below = 2n ** 53n - 2n;
    const kBelow = kafkaBundleKey('orders', 2, below, below);
    const { container } = encodeKafkaBundle(kBelow, below, below, [rec(below)]);
    expect(readBundle(kBelow, gzipSync(container)).records[0]?.offset).toBe(below);
  });

  it("gives the clear error at offset 2^53 - 1, which avsc's long cannot carry", () => {
    const max = BigInt(Number.MAX_SAFE_INTEGER);
    const kMax = kafkaBundleKey('orders', 2, max, max);
    expect(() => encodeKafkaBundle(kMax, max, max, [rec(max)])).toThrow(/exceeds 2\^53/);
  });
});

describe('kafka-v1 object keys', () => {
  it('formats <topic>/<partition>/<start:20>-<end:20>.avro.gz', () => {
    expect(kafkaBundleKey('orders', 2, 100n, 109n)).toBe('orders/2/00000000000000000100-00000000000000000109.avro.gz');
    expect(kafkaBundleKey('a.b-c_d', 0, 0n, 0n)).toBe('a.b-c_d/0/00000000000000000000-00000000000000000000.avro.gz');
    const max = 2n ** 63n - 1n;
    expect(kafkaBundleKey('t', 12, max, max)).toBe('t/12/09223372036854775807-09223372036854775807.avro.gz');
    // The spec's reader accepts what the writer names.
    expect(parseBundleKey(kafkaBundleKey('orders', 2, 100n, 109n))).toEqual({ topic: 'orders', partition: 2, start: 100n, end: 109n });
  });

  it('parses a key back, and rejects what is not a bundle key', () => {
    for (const [topic, partition, start, end] of [
      ['orders', 2, 100n, 109n],
      ['a.b-c_d', 0, 0n, 0n],
      ['t', 2147483647, 2n ** 63n - 1n, 2n ** 63n - 1n],
    ] as const) {
      expect(parseKafkaBundleKey(kafkaBundleKey(topic, partition, start, end))).toEqual({ topic, partition, start, end });
    }
    for (const bad of [
      'orders/2/100-109.avro.gz', // not padded
      'orders/2/00000000000000000100-00000000000000000109.avro', // suffix
      'orders/2/00000000000000000100-00000000000000000109.avro.gz.tmp-1-2',
      'orders/00000000000000000100-00000000000000000109.avro.gz', // no partition
      'orders/x/00000000000000000100-00000000000000000109.avro.gz',
      '',
    ]) {
      expect(parseKafkaBundleKey(bad), bad).toBeUndefined();
    }
  });

  it('orders keys lexically in offset order', () => {
    const ranges: [bigint, bigint][] = [
      [0n, 9n],
      [10n, 99n],
      [100n, 100n],
      [101n, 999n],
      [1000n, 123_456_789n],
      [123_456_790n, 2n ** 53n],
      [2n ** 53n + 1n, 2n ** 63n - 1n],
    ];
    const keys = ranges.map(([s, e]) => kafkaBundleKey('t', 7, s, e));
    const lexical = [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(lexical).toEqual(keys);
    // Reversed input sorts back as well (the assertion above is not vacuous).
    expect([...keys].reverse().sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(keys);
  });

  it('StartAfter(offset) lists the bundle starting at offset and later ones, not those starting before', () => {
    const keys = [
      kafkaBundleKey('t', 1, 0n, 89n),
      kafkaBundleKey('t', 1, 90n, 99n),
      kafkaBundleKey('t', 1, 100n, 149n),
      kafkaBundleKey('t', 1, 150n, 199n),
      kafkaBundleKey('t', 1, 200n, 1_000_000n),
    ];
    /** S3 ListObjectsV2 semantics: keys strictly greater than StartAfter, in lexical order. */
    const listFrom = (offset: bigint) => keys.filter((k) => k > kafkaListStartAfter('t', 1, offset)).map((k) => parseKafkaBundleKey(k)?.start);
    expect(listFrom(100n)).toEqual([100n, 150n, 200n]);
    expect(listFrom(0n)).toEqual([0n, 90n, 100n, 150n, 200n]);
    // An offset inside a bundle: that bundle started before it, so it is not listed.
    expect(listFrom(120n)).toEqual([150n, 200n]);
    expect(listFrom(200n)).toEqual([200n]);
    expect(listFrom(201n)).toEqual([]);
    expect(kafkaListStartAfter('t', 1, 100n)).toBe('t/1/00000000000000000100');
  });
});
