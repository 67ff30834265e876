import { createHash } from 'node:crypto';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type BackedUpRecord, checkCoverage, checkMetadata, parseBundleKey, readBundle } from '../helpers/bundle-reader.js';

// ---------------------------------------------------------------------------------------
// A tiny, independent Avro container encoder for the schema in docs/formats.md.
// ---------------------------------------------------------------------------------------

/** Avro long: zig-zag, then base-128 little-endian varint. */
function zz(v: bigint | number): Buffer {
  const x = BigInt(v);
  let n = x >= 0n ? x * 2n : -x * 2n - 1n;
  const out: number[] = [];
  while (n >= 0x80n) {
    out.push(Number(n % 0x80n) + 0x80);
    n /= 0x80n;
  }
  out.push(Number(n));
  return Buffer.from(out);
}
const encBytes = (b: Buffer): Buffer => Buffer.concat([zz(b.length), b]);
const encString = (s: string): Buffer => encBytes(Buffer.from(s, 'utf8'));
const encNullable = (b: Buffer | null, branch?: number): Buffer => (b === null ? zz(branch ?? 0) : Buffer.concat([zz(branch ?? 1), encBytes(b)]));

type HeaderMode = 'single' | 'negative' | 'split';
interface Tweak {
  typeIndex?: number;
  keyBranch?: number;
  /** Added to the byte size of negative-count header blocks. */
  headerSizeDelta?: number;
}
const TYPES = ['CREATE_TIME', 'LOG_APPEND_TIME', 'NOT_AVAILABLE'];

function encHeaders(headers: BackedUpRecord['headers'], mode: HeaderMode, tweak: Tweak): Buffer {
  const items = headers.map((h) => Buffer.concat([encString(h.key), encNullable(h.value)]));
  const parts: Buffer[] = [];
  if (mode === 'single') {
    if (items.length > 0) parts.push(zz(items.length), ...items);
  } else if (mode === 'split') {
    for (const item of items) parts.push(zz(1), item);
  } else {
    for (let i = 0; i < items.length; i += 2) {
      const chunk = Buffer.concat(items.slice(i, i + 2));
      parts.push(zz(-items.slice(i, i + 2).length), zz(chunk.length + (tweak.headerSizeDelta ?? 0)), chunk);
    }
  }
  parts.push(zz(0));
  return Buffer.concat(parts);
}

function encRecord(r: BackedUpRecord, mode: HeaderMode = 'single', tweak: Tweak = {}): Buffer {
  return Buffer.concat([
    encString(r.topic),
    zz(r.partition),
    zz(r.offset),
    zz(r.timestamp),
    zz(tweak.typeIndex ?? TYPES.indexOf(r.timestampType)),
    encNullable(r.key, r.key === null ? undefined : tweak.keyBranch),
    encNullable(r.value),
    encHeaders(r.headers, mode, tweak),
  ]);
}

/** The schema of docs/formats.md, written as the JSON text itself. */
const SCHEMA_TEXT = `{
  "type": "record",
  "name": "KafkaRecord",
  "namespace": "coldstore.v1",
  "fields": [
    { "name": "topic", "type": "string" },
    { "name": "partition", "type": "int" },
    { "name": "offset", "type": "long" },
    { "name": "timestamp", "type": "long" },
    { "name": "timestampType", "type": { "type": "enum", "name": "TimestampType", "symbols": ["CREATE_TIME", "LOG_APPEND_TIME", "NOT_AVAILABLE"] } },
    { "name": "key", "type": ["null", "bytes"] },
    { "name": "value", "type": ["null", "bytes"] },
    { "name": "headers", "type": { "type": "array", "items": {
      "type": "record", "name": "Header",
      "fields": [ { "name": "key", "type": "string" }, { "name": "value", "type": ["null", "bytes"] } ] } } }
  ]
}`;

const sha16 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest().subarray(0, 16);

interface ContainerOpts {
  key: string;
  /** Each inner array is one block; a Buffer is a pre-encoded record. */
  blocks: (BackedUpRecord | Buffer)[][];
  magic?: Buffer;
  sync?: Buffer;
  blockSync?: Buffer;
  meta?: [string, Buffer][];
  metaNegative?: boolean;
  headerMode?: HeaderMode;
  blockSizeDelta?: number;
}

function container(o: ContainerOpts): Buffer {
  const meta = o.meta ?? [
    ['avro.schema', Buffer.from(SCHEMA_TEXT, 'utf8')],
    ['avro.codec', Buffer.from('null')],
  ];
  const entries = meta.map(([k, v]) => Buffer.concat([encString(k), encBytes(v)]));
  const metaBody = Buffer.concat(entries);
  const metaEnc = o.metaNegative
    ? Buffer.concat([zz(-entries.length), zz(metaBody.length), metaBody, zz(0)])
    : Buffer.concat([zz(entries.length), metaBody, zz(0)]);
  const sync = o.sync ?? sha16(o.key);
  const parts = [o.magic ?? Buffer.from('Obj\x01', 'latin1'), metaEnc, sync];
  for (const block of o.blocks) {
    const body = Buffer.concat(block.map((r) => (Buffer.isBuffer(r) ? r : encRecord(r, o.headerMode))));
    parts.push(zz(block.length), zz(body.length + (o.blockSizeDelta ?? 0)), body, o.blockSync ?? sync);
  }
  return Buffer.concat(parts);
}
const bundle = (o: ContainerOpts): Buffer => gzipSync(container(o));

function metadataFor(key: string, body: Buffer, records: BackedUpRecord[]): Record<string, string> {
  const k = parseKeyByHand(key);
  const ts = records.map((r) => r.timestamp);
  return {
    'coldstore-format': 'kafka-v1',
    'coldstore-records': String(records.length),
    'coldstore-range-start': k.start,
    'coldstore-range-end': k.end,
    'coldstore-first-offset': String(records[0]!.offset),
    'coldstore-last-offset': String(records[records.length - 1]!.offset),
    'coldstore-min-timestamp': String(ts.reduce((a, b) => (b < a ? b : a))),
    'coldstore-max-timestamp': String(ts.reduce((a, b) => (b > a ? b : a))),
    'coldstore-first-timestamp': String(ts[0]),
    'coldstore-last-timestamp': String(ts[ts.length - 1]),
    'coldstore-body-sha256': createHash('sha256').update(body).digest('hex'),
    'coldstore-body-bytes': String(body.length),
  };
}
function parseKeyByHand(key: string): { start: string; end: string } {
  const m = /(\d+)-(\d+)\.avro\.gz$/.exec(key)!;
  return { start: String(BigInt(m[1]!)), end: String(BigInt(m[2]!)) };
}

/** The record with its Buffers as hex strings (null stays null). */
function asHex(r: BackedUpRecord): unknown {
  const hex = (b: Buffer | null): string | null => (b === null ? null : `hex:${b.toString('hex')}`);
  return { ...r, key: hex(r.key), value: hex(r.value), headers: r.headers.map((h) => ({ key: h.key, value: hex(h.value) })) };
}

/** The error message of `fn`, failing the test if it does not throw. */
function rejection(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a rejection, but nothing was thrown');
}
function expectRejected(fn: () => unknown, key: string, reason: RegExp): void {
  const msg = rejection(fn);
  expect(msg).toContain(JSON.stringify(key));
  expect(msg).toMatch(reason);
}

// ---------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------

const TOPIC = 'orders.v1_x-y';
const KEY = `${TOPIC}/3/00000000000000000100-00000000000000000199.avro.gz`;
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const ALL_BYTES_REV = Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i));

function rec(offset: number | bigint, extra: Partial<BackedUpRecord> = {}): BackedUpRecord {
  return {
    topic: TOPIC,
    partition: 3,
    offset: BigInt(offset),
    timestamp: 1_700_000_000_000n + BigInt(offset),
    timestampType: 'CREATE_TIME',
    key: Buffer.from(`k${offset}`),
    value: Buffer.from(`v${offset}`),
    headers: [],
    ...extra,
  };
}

const RECORDS: BackedUpRecord[] = [
  rec(100, { key: null, value: Buffer.alloc(0), timestamp: 1_700_000_000_500n }),
  rec(101, {
    key: Buffer.alloc(0),
    value: null,
    timestampType: 'LOG_APPEND_TIME',
    timestamp: 1_699_999_999_000n,
    headers: [
      { key: 'a', value: null },
      { key: 'a', value: Buffer.alloc(0) },
      { key: 'bin', value: ALL_BYTES },
      { key: 'a', value: Buffer.from('x') },
      { key: 'ключ-🔑', value: Buffer.from([0]) },
    ],
  }),
  rec(150, { key: ALL_BYTES, value: ALL_BYTES_REV, timestamp: -1n, timestampType: 'NOT_AVAILABLE' }),
  rec(199, { key: null, value: null, timestamp: 1_800_000_000_000n, headers: [{ key: '', value: null }] }),
];

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

describe('bundle reader: valid bundles', () => {
  it('round-trips records: null vs empty, duplicate headers in order, all byte values', () => {
    const { records, schemaJson, syncMarker } = readBundle(KEY, bundle({ key: KEY, blocks: [RECORDS] }));
    expect(records).toEqual(RECORDS);
    expect(records[0]!.key).toBeNull();
    expect(records[0]!.value).toEqual(Buffer.alloc(0));
    expect(records[1]!.key).toEqual(Buffer.alloc(0));
    expect(records[1]!.value).toBeNull();
    expect(records[1]!.headers.map((h) => h.key)).toEqual(['a', 'a', 'bin', 'a', 'ключ-🔑']);
    expect(records[1]!.headers[0]!.value).toBeNull();
    expect(records[1]!.headers[1]!.value).toEqual(Buffer.alloc(0));
    expect(records[1]!.headers[2]!.value).toEqual(ALL_BYTES);
    expect(records[2]!.key).toEqual(ALL_BYTES);
    expect(records[2]!.value).toEqual(ALL_BYTES_REV);
    expect(records.map((r) => r.timestampType)).toEqual(['CREATE_TIME', 'LOG_APPEND_TIME', 'NOT_AVAILABLE', 'CREATE_TIME']);
    expect(records[2]!.timestamp).toBe(-1n);
    expect(schemaJson).toEqual(JSON.parse(SCHEMA_TEXT));
    expect(syncMarker.toString('hex')).toBe(createHash('sha256').update(KEY).digest('hex').slice(0, 32));
  });

  it('decodes negative-count array blocks (with byte size) and one-item blocks identically', () => {
    const plain = container({ key: KEY, blocks: [RECORDS] });
    for (const headerMode of ['negative', 'split'] as const) {
      const c = container({ key: KEY, blocks: [RECORDS], headerMode, metaNegative: headerMode === 'negative' });
      expect(c.equals(plain)).toBe(false); // the encoding really differs
      expect(readBundle(KEY, gzipSync(c)).records).toEqual(RECORDS);
    }
  });

  it('rejects a negative-count block whose byte size does not match its items', () => {
    const bad = encRecord(RECORDS[1]!, 'negative', { headerSizeDelta: 1 });
    expectRejected(() => readBundle(KEY, bundle({ key: KEY, blocks: [[bad]] })), KEY, /declared byte size \d+ but its 2 items take/);
  });

  it('handles 64-bit extremes of long and the full offset range in the key', () => {
    const max = (1n << 63n) - 1n;
    const key = `t/2147483647/${(max - 1n).toString().padStart(20, '0')}-${max.toString().padStart(20, '0')}.avro.gz`;
    const records = [
      { ...rec(max - 1n), topic: 't', partition: 2147483647, timestamp: -(1n << 63n) },
      { ...rec(max), topic: 't', partition: 2147483647, timestamp: max },
    ];
    expect(readBundle(key, bundle({ key, blocks: [records] })).records).toEqual(records);
  });

  it('reads several blocks, each followed by the sync marker, split at 1 MiB', () => {
    const big = Buffer.alloc(600 * 1024, 0xab);
    const records = [rec(100, { value: big }), rec(101, { value: big }), rec(102), rec(199)];
    const gz = bundle({ key: KEY, blocks: [records.slice(0, 2), records.slice(2)] });
    // Buffers as hex strings: deep equality of 600 KiB Buffers is very slow in vitest.
    expect(readBundle(KEY, gz).records.map(asHex)).toEqual(records.map(asHex));
    // Corrupt the sync marker after the first (big) block only.
    const c = container({ key: KEY, blocks: [records.slice(0, 2), records.slice(2)] });
    const firstSyncEnd = c.indexOf(sha16(KEY), c.indexOf(sha16(KEY)) + 16) + 16;
    expect(firstSyncEnd).toBeGreaterThan(1024 * 1024);
    const corrupt = Buffer.from(c);
    corrupt.writeUInt8(corrupt.readUInt8(firstSyncEnd - 1) ^ 0xff, firstSyncEnd - 1);
    expectRejected(() => readBundle(KEY, gzipSync(corrupt)), KEY, /block 1 .*wrong sync marker after the block/);
  });

  it('rejects blocks split before 1 MiB or not split at 1 MiB', () => {
    expectRejected(
      () => readBundle(KEY, bundle({ key: KEY, blocks: [RECORDS.slice(0, 2), RECORDS.slice(2)] })),
      KEY,
      /block 1 holds only \d+ bytes of records \(< 1 MiB\) but is not the last block/,
    );
    const big = Buffer.alloc(600 * 1024, 1);
    const three = [rec(100, { value: big }), rec(101, { value: big }), rec(102)];
    expectRejected(() => readBundle(KEY, bundle({ key: KEY, blocks: [three] })), KEY, /before its last record; a new block should have started/);
  });

  it('accepts a prefixed key (shared bucket) with the sync marker derived from the full key', () => {
    const key = `events/${KEY}`;
    expect(parseBundleKey(key, 'events/')).toEqual({ topic: TOPIC, partition: 3, start: 100n, end: 199n });
    expect(readBundle(key, bundle({ key, blocks: [RECORDS] }), 'events/').records).toEqual(RECORDS);
    expectRejected(() => readBundle(key, bundle({ key, blocks: [RECORDS], sync: sha16(KEY) }), 'events/'), key, /wrong sync marker/);
    expectRejected(() => parseBundleKey(key), key, /invalid object key/);
    expectRejected(() => parseBundleKey(KEY, 'events/'), KEY, /expected the prefix "events\/"/);
  });

  it('reads a gzip member with optional header fields (FNAME, FEXTRA, FHCRC)', () => {
    const body = container({ key: KEY, blocks: [RECORDS] });
    const head = Buffer.concat([
      Buffer.from([0x1f, 0x8b, 8, 0x04 | 0x08 | 0x02, 0, 0, 0, 0, 0, 3]),
      Buffer.from([3, 0, 1, 2, 3]),
      Buffer.from('bundle.avro\0', 'latin1'),
    ]);
    const hcrc = Buffer.alloc(2);
    hcrc.writeUInt16LE(crc32(head) & 0xffff);
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(crc32(body), 0);
    trailer.writeUInt32LE(body.length, 4);
    const gz = Buffer.concat([head, hcrc, deflateRawSync(body), trailer]);
    expect(readBundle(KEY, gz).records).toEqual(RECORDS);
    const badCrc = Buffer.from(gz);
    badCrc.writeUInt8(badCrc.readUInt8(badCrc.length - 8) ^ 1, badCrc.length - 8);
    expectRejected(() => readBundle(KEY, badCrc), KEY, /CRC32/);
  });
});

describe('bundle reader: corrupt containers are rejected naming the key', () => {
  const good = (): ContainerOpts => ({ key: KEY, blocks: [RECORDS] });

  it('wrong magic', () => {
    expectRejected(() => readBundle(KEY, bundle({ ...good(), magic: Buffer.from('Obj\x02', 'latin1') })), KEY, /wrong magic/);
    expectRejected(() => readBundle(KEY, bundle({ ...good(), magic: Buffer.from('OBJ\x01', 'latin1') })), KEY, /wrong magic/);
  });

  it('sync marker not derived from the key', () => {
    const otherKey = `${TOPIC}/3/00000000000000000100-00000000000000000200.avro.gz`;
    for (const sync of [sha16(otherKey), Buffer.alloc(16), createHash('sha256').update(KEY).digest().subarray(16, 32)]) {
      expectRejected(() => readBundle(KEY, bundle({ ...good(), sync, blockSync: sync })), KEY, /wrong sync marker in the header/);
    }
    expectRejected(() => readBundle(KEY, bundle({ ...good(), blockSync: Buffer.alloc(16, 7) })), KEY, /wrong sync marker after the block/);
  });

  it('truncated body at every length', () => {
    const c = container(good());
    for (let len = 0; len < c.length; len++) {
      const msg = rejection(() => readBundle(KEY, gzipSync(c.subarray(0, len))));
      expect(msg).toContain(JSON.stringify(KEY));
      expect(msg).toMatch(len < 4 ? /wrong magic/ : /truncated|no data block/);
    }
    const gz = gzipSync(c);
    expectRejected(() => readBundle(KEY, gz.subarray(0, gz.length - 20)), KEY, /gzip: .*(truncated|corrupt)/);
    expectRejected(() => readBundle(KEY, gz.subarray(0, gz.length - 3)), KEY, /gzip: truncated/);
  });

  it('trailing garbage after the last block or after the gzip member', () => {
    const c = container(good());
    for (const junk of [Buffer.from('GARBAGE'), Buffer.from([0]), Buffer.from([2, 200])]) {
      expectRejected(() => readBundle(KEY, gzipSync(Buffer.concat([c, junk]))), KEY, /after block 1 are not a valid block/);
    }
    const gz = gzipSync(c);
    expectRejected(() => readBundle(KEY, Buffer.concat([gz, Buffer.from('xx')])), KEY, /2 bytes after the end of the gzip member/);
    expectRejected(() => readBundle(KEY, Buffer.concat([gz, gzipSync(Buffer.from('x'))])), KEY, /after the end of the gzip member/);
    expectRejected(() => readBundle(KEY, bundle({ ...good(), blockSizeDelta: 0 }).subarray(1)), KEY, /not gzip/);
  });

  it('block byte size that does not match the records', () => {
    // One record whose encoding is followed by 3 stray bytes inside the declared size.
    const extra = Buffer.concat([encRecord(RECORDS[0]!), Buffer.from([0, 0, 0])]);
    expectRejected(() => readBundle(KEY, bundle({ key: KEY, blocks: [[extra]] })), KEY, /3 bytes unaccounted for/);
    expectRejected(() => readBundle(KEY, bundle({ ...good(), blockSizeDelta: -2 })), KEY, /records overrun the declared byte size/);
  });

  it('bad enum index and bad union branch', () => {
    const badEnum = encRecord(RECORDS[0]!, 'single', { typeIndex: 3 });
    expectRejected(() => readBundle(KEY, bundle({ key: KEY, blocks: [[badEnum]] })), KEY, /enum index 3/);
    const badUnion = encRecord(RECORDS[2]!, 'single', { keyBranch: 2 });
    expectRejected(() => readBundle(KEY, bundle({ key: KEY, blocks: [[badUnion]] })), KEY, /union branch 2/);
  });

  it('record offsets outside the key range', () => {
    expectRejected(() => readBundle(KEY, bundle({ key: KEY, blocks: [[rec(99), rec(100)]] })), KEY, /offset 99, outside the key range 100\.\.199/);
    expectRejected(() => readBundle(KEY, bundle({ key: KEY, blocks: [[rec(150), rec(200)]] })), KEY, /offset 200, outside the key range 100\.\.199/);
  });

  it('decreasing or repeated offsets', () => {
    expectRejected(
      () => readBundle(KEY, bundle({ key: KEY, blocks: [[rec(100), rec(120), rec(110)]] })),
      KEY,
      /offset 110, not greater than the previous record's 120/,
    );
    expectRejected(() => readBundle(KEY, bundle({ key: KEY, blocks: [[rec(100), rec(100)]] })), KEY, /offset 100, not greater than the previous record's 100/);
  });

  it('wrong topic or partition', () => {
    expectRejected(
      () => readBundle(KEY, bundle({ key: KEY, blocks: [[rec(100), rec(101, { topic: 'orders' })]] })),
      KEY,
      /has topic "orders", the key says "orders\.v1_x-y"/,
    );
    expectRejected(() => readBundle(KEY, bundle({ key: KEY, blocks: [[rec(100, { partition: 4 })]] })), KEY, /has partition 4, the key says 3/);
  });

  it('wrong container metadata: schema, codec, extra or missing entries', () => {
    const schema = Buffer.from(SCHEMA_TEXT, 'utf8');
    const codec = Buffer.from('null');
    const cases: [[string, Buffer][], RegExp][] = [
      [
        [
          ['avro.schema', Buffer.from(SCHEMA_TEXT.replace('coldstore.v1', 'coldstore.v2'))],
          ['avro.codec', codec],
        ],
        /avro\.schema differs/,
      ],
      [
        [
          ['avro.schema', Buffer.from(SCHEMA_TEXT.replace(', "NOT_AVAILABLE"', ''))],
          ['avro.codec', codec],
        ],
        /avro\.schema differs/,
      ],
      [
        [
          ['avro.schema', Buffer.from('{')],
          ['avro.codec', codec],
        ],
        /avro\.schema is not UTF-8 JSON/,
      ],
      [
        [
          ['avro.schema', schema],
          ['avro.codec', Buffer.from('deflate')],
        ],
        /avro\.codec must be "null"/,
      ],
      [[['avro.schema', schema]], /exactly avro\.codec and avro\.schema/],
      [
        [
          ['avro.schema', schema],
          ['avro.codec', codec],
          ['coldstore', Buffer.from('x')],
        ],
        /exactly avro\.codec and avro\.schema/,
      ],
      [
        [
          ['avro.schema', schema],
          ['avro.codec', codec],
          ['avro.codec', codec],
        ],
        /"avro\.codec" twice/,
      ],
    ];
    for (const [meta, reason] of cases) {
      expectRejected(() => readBundle(KEY, bundle({ ...good(), meta })), KEY, reason);
    }
    // Key order and whitespace in the schema JSON do not matter (deep equality).
    const reordered = JSON.stringify({ ...(JSON.parse(SCHEMA_TEXT) as object), type: 'record' });
    expect(
      readBundle(
        KEY,
        bundle({
          ...good(),
          meta: [
            ['avro.codec', codec],
            ['avro.schema', Buffer.from(reordered)],
          ],
        }),
      ).records,
    ).toEqual(RECORDS);
  });
});

describe('parseBundleKey', () => {
  it('parses a valid key', () => {
    expect(parseBundleKey(KEY)).toEqual({ topic: TOPIC, partition: 3, start: 100n, end: 199n });
    expect(parseBundleKey('t/0/00000000000000000007-00000000000000000007.avro.gz')).toEqual({ topic: 't', partition: 0, start: 7n, end: 7n });
  });

  it('rejects bad grammar with a descriptive error', () => {
    const bad: [string, RegExp][] = [
      ['t/0/0000000000000000100-00000000000000000199.avro.gz', /start offset "0000000000000000100" must be zero-padded to exactly 20 digits \(has 19\)/],
      ['t/0/00000000000000000100-000000000000000000199.avro.gz', /end offset .* \(has 21\)/],
      ['t/0/100-199.avro.gz', /exactly 20 digits/],
      ['t/03/00000000000000000100-00000000000000000199.avro.gz', /partition "03" must be an unpadded decimal/],
      ['t/-1/00000000000000000100-00000000000000000199.avro.gz', /partition "-1"/],
      ['t/2147483648/00000000000000000100-00000000000000000199.avro.gz', /does not fit an Avro int/],
      ['t/0/00000000000000000100-00000000000000000199.avro', /must end with "\.avro\.gz"/],
      ['t/0/00000000000000000100-00000000000000000199.avro.gzip', /must end with "\.avro\.gz"/],
      ['t/0/00000000000000000200-00000000000000000199.avro.gz', /start offset 200 is greater than end offset 199/],
      ['t/0/00000000000000000100-99999999999999999999.avro.gz', /does not fit an Avro long/],
      ['t/0/00000000000000000100_00000000000000000199.avro.gz', /must be <start>-<end>/],
      ['a/b/0/00000000000000000100-00000000000000000199.avro.gz', /found 4 '\/'-separated parts/],
      ['t t/0/00000000000000000100-00000000000000000199.avro.gz', /not a Kafka topic name/],
      ['/0/00000000000000000100-00000000000000000199.avro.gz', /not a Kafka topic name/],
      ['../0/00000000000000000100-00000000000000000199.avro.gz', /not a legal Kafka topic name/],
    ];
    for (const [key, reason] of bad) expectRejected(() => parseBundleKey(key), key, reason);
  });

  it('readBundle rejects a well-formed body stored under a bad key', () => {
    const key = `${TOPIC}/3/0000000000000000100-00000000000000000199.avro.gz`;
    expectRejected(() => readBundle(key, bundle({ key, blocks: [RECORDS] })), key, /exactly 20 digits \(has 19\)/);
  });
});

describe('checkMetadata', () => {
  const body = container({ key: KEY, blocks: [RECORDS] });
  const gz = gzipSync(body);
  const meta = metadataFor(KEY, body, RECORDS);

  it('accepts correct metadata, with names in any case', () => {
    expect(meta['coldstore-min-timestamp']).toBe('-1');
    expect(meta['coldstore-first-timestamp']).toBe('1700000000500');
    expect(meta['coldstore-max-timestamp']).toBe('1800000000000');
    expect(() => checkMetadata(KEY, gz, meta, RECORDS)).not.toThrow();
    const lower = Object.fromEntries(Object.entries(meta).map(([k, v]) => [k.toLowerCase(), v]));
    const upper = Object.fromEntries(Object.entries(meta).map(([k, v]) => [k.toUpperCase(), v]));
    expect(() => checkMetadata(KEY, gz, lower, RECORDS)).not.toThrow();
    expect(() => checkMetadata(KEY, gz, { ...upper, 'content-type': 'x' }, RECORDS)).not.toThrow();
  });

  it('rejects a body sha256 mismatch, including the sha of the gzip bytes', () => {
    const flipped = meta['coldstore-body-sha256']!.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    expectRejected(
      () => checkMetadata(KEY, gz, { ...meta, 'coldstore-body-sha256': flipped }, RECORDS),
      KEY,
      /coldstore-body-sha256 is "[0-9a-f]{64}", but the uncompressed container hashes to/,
    );
    const ofGzip = createHash('sha256').update(gz).digest('hex');
    expectRejected(() => checkMetadata(KEY, gz, { ...meta, 'coldstore-body-sha256': ofGzip }, RECORDS), KEY, /coldstore-body-sha256/);
    expectRejected(() => checkMetadata(KEY, gz, { ...meta, 'coldstore-body-bytes': String(gz.length) }, RECORDS), KEY, /coldstore-body-bytes/);
  });

  it('rejects every other wrong, missing or unknown entry', () => {
    for (const name of Object.keys(meta)) {
      const wrong = name === 'coldstore-format' ? 'kafka-v2' : name === 'coldstore-body-sha256' ? 'f'.repeat(64) : `${meta[name]}1`;
      expectRejected(() => checkMetadata(KEY, gz, { ...meta, [name]: wrong }, RECORDS), KEY, new RegExp(`metadata: ${name} is`));
      const missing = { ...meta };
      delete missing[name];
      expectRejected(() => checkMetadata(KEY, gz, missing, RECORDS), KEY, new RegExp(`metadata: missing ${name}$`));
    }
    expectRejected(() => checkMetadata(KEY, gz, { ...meta, 'coldstore-records': '04' }, RECORDS), KEY, /coldstore-records is "04"/);
    expectRejected(() => checkMetadata(KEY, gz, { ...meta, 'coldstore-extra': '1' }, RECORDS), KEY, /unknown entry "coldstore-extra"/);
    expectRejected(() => checkMetadata(KEY, gz, { ...meta, 'Coldstore-Format': 'kafka-v1' }, RECORDS), KEY, /more than once/);
  });
});

describe('checkCoverage', () => {
  const k = (topic: string, p: number, s: number, e: number): string => `${topic}/${p}/${String(s).padStart(20, '0')}-${String(e).padStart(20, '0')}.avro.gz`;

  it('returns the sorted ranges per partition when they tile', () => {
    const result = checkCoverage([k('a', 0, 10, 19), k('a', 1, 0, 0), k('a', 0, 0, 9), k('b', 0, 5, 5), k('a', 0, 20, 100)]);
    expect([...result.keys()].sort()).toEqual(['a/0', 'a/1', 'b/0']);
    expect(result.get('a/0')).toEqual([
      { start: 0n, end: 9n },
      { start: 10n, end: 19n },
      { start: 20n, end: 100n },
    ]);
    expect(result.get('a/1')).toEqual([{ start: 0n, end: 0n }]);
    expect(checkCoverage([`events/${k('a', 0, 0, 9)}`, `events/${k('a', 0, 10, 10)}`], 'events/').get('a/0')).toHaveLength(2);
  });

  it('rejects a gap', () => {
    expectRejected(() => checkCoverage([k('a', 0, 0, 9), k('a', 0, 11, 19)]), k('a', 0, 11, 19), /gap in coverage of a\/0: offsets 10\.\.10 are in no bundle/);
  });

  it('rejects an overlap, including a duplicate key', () => {
    expectRejected(() => checkCoverage([k('a', 0, 10, 19), k('a', 0, 0, 10)]), k('a', 0, 10, 19), /overlaps bundle .* in a\/0/);
    expectRejected(() => checkCoverage([k('a', 0, 0, 9), k('a', 0, 0, 9)]), k('a', 0, 0, 9), /overlaps bundle/);
    expectRejected(() => checkCoverage([k('a', 0, 0, 9), k('a', 0, 5, 7), k('a', 0, 10, 12)]), k('a', 0, 5, 7), /overlaps bundle/);
  });

  it('rejects a bad key', () => {
    const bad = 'a/0/1-2.avro.gz';
    expectRejected(() => checkCoverage([k('a', 0, 0, 9), bad]), bad, /invalid object key/);
  });
});
