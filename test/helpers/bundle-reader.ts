/**
 * An independent reader of coldstore's `kafka-v1` backup bundles, written from
 * docs/formats.md alone (it does not import the writer, nor any Avro library).
 *
 * Everything here is strict: any deviation from the spec throws an Error whose message
 * names the object key and what is wrong.
 */
import { createHash } from 'node:crypto';
import { crc32, inflateRawSync } from 'node:zlib';
import { isDeepStrictEqual } from 'node:util';

export interface BackedUpRecord {
  topic: string;
  partition: number;
  offset: bigint;
  timestamp: bigint;
  timestampType: 'CREATE_TIME' | 'LOG_APPEND_TIME' | 'NOT_AVAILABLE';
  key: Buffer | null;
  value: Buffer | null;
  headers: { key: string; value: Buffer | null }[];
}

export interface BundleKey {
  topic: string;
  partition: number;
  start: bigint;
  end: bigint;
}

/** The record schema, copied from docs/formats.md ("Schema (records appear in offset order)"). */
export const EXPECTED_SCHEMA: unknown = {
  type: 'record',
  name: 'KafkaRecord',
  namespace: 'coldstore.v1',
  fields: [
    { name: 'topic', type: 'string' },
    { name: 'partition', type: 'int' },
    { name: 'offset', type: 'long' },
    { name: 'timestamp', type: 'long' },
    {
      name: 'timestampType',
      type: { type: 'enum', name: 'TimestampType', symbols: ['CREATE_TIME', 'LOG_APPEND_TIME', 'NOT_AVAILABLE'] },
    },
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
};

const TIMESTAMP_TYPES = ['CREATE_TIME', 'LOG_APPEND_TIME', 'NOT_AVAILABLE'] as const;
const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]); // 'O' 'b' 'j' 0x01
const SYNC_SIZE = 16;
/** "A new block starts when the current one holds 1 MiB of serialized records or more." */
const BLOCK_THRESHOLD = 1024 * 1024;
const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;
const LONG_MAX = (1n << 63n) - 1n;

const KEY_SUFFIX = '.avro.gz';
/** `<topic>/<partition>/<start>-<end>.avro.gz`, start/end zero-padded to 20 digits. */
const KEY_RE = /^([a-zA-Z0-9._-]+)\/(0|[1-9][0-9]*)\/([0-9]{20})-([0-9]{20})\.avro\.gz$/;

function bundleError(key: string, what: string): Error {
  return new Error(`bundle ${JSON.stringify(key)}: ${what}`);
}

// ---------------------------------------------------------------------------------------
// Object keys and coverage
// ---------------------------------------------------------------------------------------

/**
 * Parses `<prefix><topic>/<partition>/<start>-<end>.avro.gz` exactly as docs/formats.md
 * specifies it. `prefix` (e.g. `events/` in a shared bucket) must be present if given.
 */
export function parseBundleKey(key: string, prefix = ''): BundleKey {
  const fail = (what: string): never => {
    throw bundleError(key, `invalid object key: ${what}`);
  };
  if (prefix !== '' && !key.startsWith(prefix)) fail(`expected the prefix ${JSON.stringify(prefix)}`);
  const rest = key.slice(prefix.length);
  if (!rest.endsWith(KEY_SUFFIX)) fail(`must end with ${JSON.stringify(KEY_SUFFIX)}`);
  const parts = rest.slice(0, -KEY_SUFFIX.length).split('/');
  if (parts.length !== 3) {
    fail(`expected <topic>/<partition>/<start>-<end>${KEY_SUFFIX}, found ${parts.length} '/'-separated parts`);
  }
  const [topic = '', partition = '', range = ''] = parts;
  if (!/^[a-zA-Z0-9._-]+$/.test(topic)) fail(`topic ${JSON.stringify(topic)} is not a Kafka topic name [a-zA-Z0-9._-]+`);
  if (topic === '.' || topic === '..' || topic.length > 249) fail(`topic ${JSON.stringify(topic)} is not a legal Kafka topic name`);
  if (!/^(0|[1-9][0-9]*)$/.test(partition)) fail(`partition ${JSON.stringify(partition)} must be an unpadded decimal number`);
  const partitionNumber = Number(partition);
  if (partitionNumber > INT_MAX) fail(`partition ${partition} does not fit an Avro int`);
  const rangeMatch = /^([0-9]+)-([0-9]+)$/.exec(range);
  if (!rangeMatch) fail(`range ${JSON.stringify(range)} must be <start>-<end>`);
  const [, startText = '', endText = ''] = rangeMatch ?? [];
  if (startText.length !== 20) fail(`start offset ${JSON.stringify(startText)} must be zero-padded to exactly 20 digits (has ${startText.length})`);
  if (endText.length !== 20) fail(`end offset ${JSON.stringify(endText)} must be zero-padded to exactly 20 digits (has ${endText.length})`);
  const start = BigInt(startText);
  const end = BigInt(endText);
  if (end > LONG_MAX) fail(`end offset ${end} does not fit an Avro long`);
  if (start > end) fail(`start offset ${start} is greater than end offset ${end}`);
  // Belt and braces: the whole key must also match the grammar in one piece.
  if (!KEY_RE.test(rest)) fail('does not match <topic>/<partition>/<start>-<end>.avro.gz');
  return { topic, partition: partitionNumber, start, end };
}

/**
 * Groups bundle keys by `topic/partition`, sorts them by start and checks that they tile
 * the offset space: no overlap, no gap (`next.start === prev.end + 1`).
 */
export function checkCoverage(keys: string[], prefix = ''): Map<string, { start: bigint; end: bigint }[]> {
  const groups = new Map<string, { key: string; start: bigint; end: bigint }[]>();
  for (const key of keys) {
    const parsed = parseBundleKey(key, prefix);
    const group = `${parsed.topic}/${parsed.partition}`;
    let list = groups.get(group);
    if (!list) groups.set(group, (list = []));
    list.push({ key, start: parsed.start, end: parsed.end });
  }
  const result = new Map<string, { start: bigint; end: bigint }[]>();
  for (const [group, list] of groups) {
    list.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.end < b.end ? -1 : a.end > b.end ? 1 : 0));
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1]!;
      const next = list[i]!;
      if (next.start <= prev.end) {
        throw bundleError(next.key, `overlaps bundle ${JSON.stringify(prev.key)} in ${group}: ${prev.start}..${prev.end} and ${next.start}..${next.end}`);
      }
      if (next.start !== prev.end + 1n) {
        throw bundleError(
          next.key,
          `gap in coverage of ${group}: offsets ${prev.end + 1n}..${next.start - 1n} are in no bundle (previous bundle ${JSON.stringify(prev.key)} ends at ${prev.end})`,
        );
      }
    }
    result.set(
      group,
      list.map(({ start, end }) => ({ start, end })),
    );
  }
  return result;
}

// ---------------------------------------------------------------------------------------
// gzip (RFC 1952, exactly one member)
// ---------------------------------------------------------------------------------------

function gunzipSingleMember(key: string, gz: Buffer): Buffer {
  const fail = (what: string): never => {
    throw bundleError(key, `gzip: ${what}`);
  };
  if (gz.length < 18) fail(`only ${gz.length} bytes, shorter than the smallest gzip member`);
  if (gz[0] !== 0x1f || gz[1] !== 0x8b) fail('not gzip data (wrong magic bytes)');
  if (gz[2] !== 8) fail(`compression method ${gz[2]} is not deflate (8)`);
  const flags = gz[3]!;
  if (flags & 0xe0) fail(`reserved header flag bits set (FLG=0x${flags.toString(16)})`);
  let pos = 10;
  const need = (n: number): void => {
    if (pos + n > gz.length) fail('truncated gzip header');
  };
  if (flags & 0x04) {
    need(2);
    const xlen = gz.readUInt16LE(pos);
    pos += 2;
    need(xlen);
    pos += xlen;
  }
  for (const bit of [0x08, 0x10]) {
    if (flags & bit) {
      const zero = gz.indexOf(0, pos);
      if (zero < 0) fail('truncated gzip header (unterminated name/comment)');
      pos = zero + 1;
    }
  }
  if (flags & 0x02) {
    need(2);
    const expected = crc32(gz.subarray(0, pos)) & 0xffff;
    if (gz.readUInt16LE(pos) !== expected) fail('header CRC16 mismatch');
    pos += 2;
  }
  let out: Buffer;
  let consumed: number;
  try {
    const result = inflateRawSync(gz.subarray(pos), { info: true }) as unknown as {
      buffer: Buffer;
      engine: { bytesWritten: number };
    };
    out = result.buffer;
    consumed = result.engine.bytesWritten;
  } catch (err) {
    return fail(`deflate stream is corrupt or truncated (${(err as Error).message})`);
  }
  pos += consumed;
  if (pos + 8 > gz.length) fail('truncated: the 8-byte gzip trailer (CRC32, ISIZE) is missing');
  const crc = gz.readUInt32LE(pos);
  const isize = gz.readUInt32LE(pos + 4);
  pos += 8;
  if (crc !== crc32(out)) fail('CRC32 of the uncompressed data does not match the gzip trailer');
  if (isize !== out.length % 2 ** 32) fail(`ISIZE ${isize} does not match the uncompressed size ${out.length}`);
  if (pos !== gz.length) {
    fail(`${gz.length - pos} bytes after the end of the gzip member (the body must be a single gzip member)`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Avro binary decoding
// ---------------------------------------------------------------------------------------

class Cursor {
  pos = 0;
  /** `base` is where `buf` starts in the container, for error messages. */
  constructor(
    private readonly buf: Buffer,
    private readonly base: number,
    readonly fail: (what: string) => never,
  ) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  get absolute(): number {
    return this.base + this.pos;
  }

  raw(n: number, what: string): Buffer {
    if (n > this.remaining) {
      this.fail(`truncated: ${what} needs ${n} bytes at byte ${this.absolute}, only ${this.remaining} left`);
    }
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Avro `long`: zig-zag varint, at most 10 bytes, must fit in 64 bits. */
  long(what: string): bigint {
    const at = this.absolute;
    let acc = 0n;
    let shift = 0n;
    for (let i = 0; ; i++) {
      if (this.remaining < 1) this.fail(`truncated: ${what} (a varint) at byte ${at} is cut off`);
      const b = this.buf[this.pos++]!;
      if (i === 9 && b > 1) this.fail(`${what} at byte ${at}: varint does not fit in 64 bits`);
      acc |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7n;
    }
    return (acc >> 1n) ^ -(acc & 1n);
  }

  /** Avro `int`: a zig-zag varint in the 32-bit signed range. */
  int(what: string): number {
    const at = this.absolute;
    const v = this.long(what);
    if (v < BigInt(INT_MIN) || v > BigInt(INT_MAX)) this.fail(`${what} at byte ${at}: ${v} does not fit an Avro int`);
    return Number(v);
  }

  bytes(what: string): Buffer {
    const at = this.absolute;
    const len = this.long(`${what} length`);
    if (len < 0n) this.fail(`${what} at byte ${at}: negative length ${len}`);
    if (len > BigInt(this.remaining)) {
      this.fail(`truncated: ${what} at byte ${at} has length ${len} but only ${this.remaining} bytes are left`);
    }
    return Buffer.from(this.raw(Number(len), what));
  }

  string(what: string): string {
    const at = this.absolute;
    const b = this.bytes(what);
    try {
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(b);
    } catch {
      return this.fail(`${what} at byte ${at} is not valid UTF-8`);
    }
  }

  /** Union `["null", "bytes"]`: branch 0 = null, 1 = bytes. */
  nullableBytes(what: string): Buffer | null {
    const at = this.absolute;
    const branch = this.long(`${what} union branch`);
    if (branch === 0n) return null;
    if (branch === 1n) return this.bytes(what);
    return this.fail(`${what} at byte ${at}: union branch ${branch} is neither 0 (null) nor 1 (bytes)`);
  }

  /**
   * Reads the blocks of an Avro array or map, calling `item` for every item. A negative
   * block count is followed by the block's byte size, which must match the items read.
   */
  blocks(what: string, item: () => void): void {
    for (;;) {
      const at = this.absolute;
      let count = this.long(`${what} block count`);
      if (count === 0n) return;
      let declared: number | undefined;
      if (count < 0n) {
        count = -count;
        const size = this.long(`${what} block byte size`);
        if (size < 0n) this.fail(`${what} block at byte ${at}: negative byte size ${size}`);
        if (size > BigInt(this.remaining)) {
          this.fail(`truncated: ${what} block at byte ${at} declares ${size} bytes but only ${this.remaining} are left`);
        }
        declared = Number(size);
      }
      if (count > BigInt(this.remaining)) {
        this.fail(`truncated: ${what} block at byte ${at} declares ${count} items but only ${this.remaining} bytes are left`);
      }
      const itemsAt = this.pos;
      for (let i = 0; i < Number(count); i++) item();
      if (declared !== undefined && this.pos - itemsAt !== declared) {
        this.fail(`${what} block at byte ${at}: declared byte size ${declared} but its ${count} items take ${this.pos - itemsAt} bytes`);
      }
    }
  }
}

function readRecord(c: Cursor): BackedUpRecord {
  const topic = c.string('record topic');
  const partition = c.int('record partition');
  const offset = c.long('record offset');
  const timestamp = c.long('record timestamp');
  const typeAt = c.absolute;
  const typeIndex = c.int('record timestampType');
  const timestampType = TIMESTAMP_TYPES[typeIndex];
  if (typeIndex < 0 || timestampType === undefined) {
    return c.fail(`record timestampType at byte ${typeAt}: enum index ${typeIndex} is not one of 0..${TIMESTAMP_TYPES.length - 1}`);
  }
  const key = c.nullableBytes('record key');
  const value = c.nullableBytes('record value');
  const headers: { key: string; value: Buffer | null }[] = [];
  c.blocks('record headers', () => {
    const hk = c.string('header key');
    const hv = c.nullableBytes('header value');
    headers.push({ key: hk, value: hv });
  });
  return { topic, partition, offset, timestamp, timestampType, key, value, headers };
}

// ---------------------------------------------------------------------------------------
// Object Container File
// ---------------------------------------------------------------------------------------

/** The first 16 bytes of SHA-256 of the object key (UTF-8). */
export function expectedSyncMarker(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest().subarray(0, SYNC_SIZE);
}

/**
 * Reads one bundle strictly. `key` is the full object key (including any `prefix`); the
 * sync marker is derived from the full key.
 */
export function readBundle(key: string, gzipped: Buffer, prefix = ''): { records: BackedUpRecord[]; schemaJson: unknown; syncMarker: Buffer } {
  const parsedKey = parseBundleKey(key, prefix);
  const container = gunzipSingleMember(key, gzipped);
  const fail = (what: string): never => {
    throw bundleError(key, what);
  };
  const c = new Cursor(container, 0, fail);

  // 1. Magic.
  if (container.length < MAGIC.length || !container.subarray(0, MAGIC.length).equals(MAGIC)) {
    fail(`wrong magic: expected 4f626a01 ("Obj\\x01"), found ${container.subarray(0, MAGIC.length).toString('hex')}`);
  }
  c.pos = MAGIC.length;

  // 2. File metadata: map<bytes> with exactly avro.schema and avro.codec.
  const meta = new Map<string, Buffer>();
  c.blocks('file metadata map', () => {
    const name = c.string('file metadata key');
    const value = c.bytes(`file metadata value of ${name}`);
    if (meta.has(name)) fail(`file metadata has the entry ${JSON.stringify(name)} twice`);
    meta.set(name, value);
  });
  const names = [...meta.keys()].sort();
  if (names.length !== 2 || names[0] !== 'avro.codec' || names[1] !== 'avro.schema') {
    fail(`file metadata must hold exactly avro.codec and avro.schema, found ${JSON.stringify(names)}`);
  }
  const codec = meta.get('avro.codec')!;
  if (codec.toString('latin1') !== 'null') fail(`avro.codec must be "null", found ${JSON.stringify(codec.toString('latin1'))}`);
  let schemaJson: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(meta.get('avro.schema')!);
    schemaJson = JSON.parse(text);
  } catch (err) {
    fail(`avro.schema is not UTF-8 JSON (${(err as Error).message})`);
  }
  if (!isDeepStrictEqual(schemaJson, EXPECTED_SCHEMA)) {
    fail(`avro.schema differs from the schema in docs/formats.md: ${JSON.stringify(schemaJson)}`);
  }

  // 3. Sync marker.
  const expectedSync = expectedSyncMarker(key);
  const syncMarker = Buffer.from(c.raw(SYNC_SIZE, 'header sync marker'));
  if (!syncMarker.equals(expectedSync)) {
    fail(`wrong sync marker in the header: ${syncMarker.toString('hex')}, expected the first 16 bytes of sha256(key) ${expectedSync.toString('hex')}`);
  }

  // 4. Data blocks.
  const records: BackedUpRecord[] = [];
  const blockSizes: bigint[] = [];
  if (c.remaining === 0) fail('the container has no data block after the header (at least one is required)');
  while (c.remaining > 0) {
    const blockIndex = blockSizes.length + 1;
    const blockAt = c.absolute;
    const where =
      blockIndex === 1
        ? `block 1 at byte ${blockAt}`
        : `block ${blockIndex} at byte ${blockAt} (the ${c.remaining} bytes after block ${blockIndex - 1} are not a valid block: trailing garbage or a corrupt block)`;
    const blockFail = (what: string): never => fail(`${where}: ${what}`);
    const bc = new Cursor(container.subarray(blockAt), blockAt, blockFail);
    const count = bc.long('record count');
    if (count <= 0n) blockFail(`record count ${count} is not positive`);
    const size = bc.long('byte size');
    if (size <= 0n) blockFail(`byte size ${size} is not positive`);
    if (size > BigInt(bc.remaining)) {
      blockFail(`truncated: declares ${size} bytes of records but only ${bc.remaining} bytes are left`);
    }
    const dataAt = bc.absolute;
    const data = container.subarray(dataAt, dataAt + Number(size));
    if (count > BigInt(data.length)) blockFail(`record count ${count} cannot fit in ${size} bytes`);
    const rc = new Cursor(data, dataAt, (what) => blockFail(what.startsWith('truncated') ? `records overrun the declared byte size ${size}: ${what}` : what));
    let lastRecordStart = 0;
    for (let i = 0; i < Number(count); i++) {
      lastRecordStart = rc.pos;
      records.push(readRecord(rc));
    }
    if (rc.remaining !== 0) {
      blockFail(`${count} records take ${rc.pos} bytes but the block declares ${size} (${rc.remaining} bytes unaccounted for)`);
    }
    // A new block starts once the current one holds >= 1 MiB: so before its last record
    // every block held < 1 MiB (and every block but the last holds >= 1 MiB, see below).
    if (lastRecordStart >= BLOCK_THRESHOLD) {
      blockFail(`already held ${lastRecordStart} bytes (>= 1 MiB) before its last record; a new block should have started`);
    }
    bc.pos += Number(size);
    const sync = bc.raw(SYNC_SIZE, 'sync marker after the block');
    if (!sync.equals(expectedSync)) {
      blockFail(`wrong sync marker after the block: ${sync.toString('hex')}, expected ${expectedSync.toString('hex')}`);
    }
    c.pos = blockAt + bc.pos;
    blockSizes.push(size);
  }
  if (c.remaining !== 0) fail(`${c.remaining} bytes left over after the last block`);
  for (const [i, size] of blockSizes.slice(0, -1).entries()) {
    if (size < BigInt(BLOCK_THRESHOLD)) {
      fail(`block ${i + 1} holds only ${size} bytes of records (< 1 MiB) but is not the last block`);
    }
  }

  // Records against the key.
  let previous: bigint | undefined;
  for (const [i, r] of records.entries()) {
    if (r.topic !== parsedKey.topic)
      fail(`record ${i} (offset ${r.offset}) has topic ${JSON.stringify(r.topic)}, the key says ${JSON.stringify(parsedKey.topic)}`);
    if (r.partition !== parsedKey.partition) fail(`record ${i} (offset ${r.offset}) has partition ${r.partition}, the key says ${parsedKey.partition}`);
    if (r.offset < parsedKey.start || r.offset > parsedKey.end) {
      fail(`record ${i} has offset ${r.offset}, outside the key range ${parsedKey.start}..${parsedKey.end}`);
    }
    if (previous !== undefined && r.offset <= previous) {
      fail(`record ${i} has offset ${r.offset}, not greater than the previous record's ${previous} (offsets must strictly increase)`);
    }
    previous = r.offset;
  }
  return { records, schemaJson, syncMarker };
}

// ---------------------------------------------------------------------------------------
// Object metadata
// ---------------------------------------------------------------------------------------

const METADATA_NAMES = [
  'coldstore-format',
  'coldstore-records',
  'coldstore-range-start',
  'coldstore-range-end',
  'coldstore-first-offset',
  'coldstore-last-offset',
  'coldstore-min-timestamp',
  'coldstore-max-timestamp',
  'coldstore-first-timestamp',
  'coldstore-last-timestamp',
  'coldstore-body-sha256',
  'coldstore-body-bytes',
  // Encrypted objects (docs/formats.md, "Encrypted objects"), once opened.
  'coldstore-enc',
  'coldstore-enc-provider',
  'coldstore-enc-key-id',
  'coldstore-enc-wrapped-key',
  'coldstore-enc-nonce',
  'coldstore-enc-sealed',
] as const;

/**
 * Checks the object metadata (S3 user metadata, names compared case-insensitively)
 * against the bundle's records and bytes.
 */
export function checkMetadata(key: string, gzipped: Buffer, metadata: Record<string, string>, records: BackedUpRecord[], prefix = ''): void {
  const fail = (what: string): never => {
    throw bundleError(key, `metadata: ${what}`);
  };
  const parsedKey = parseBundleKey(key, prefix);
  const container = gunzipSingleMember(key, gzipped);

  const byName = new Map<string, string>();
  for (const [name, value] of Object.entries(metadata)) {
    const lower = name.toLowerCase();
    if (byName.has(lower)) fail(`the name ${JSON.stringify(lower)} appears more than once (case-insensitively)`);
    byName.set(lower, value);
  }
  for (const name of byName.keys()) {
    if (name.startsWith('coldstore-') && !(METADATA_NAMES as readonly string[]).includes(name)) {
      fail(`unknown entry ${JSON.stringify(name)} (not in docs/formats.md)`);
    }
  }
  const get = (name: (typeof METADATA_NAMES)[number]): string => {
    const v = byName.get(name);
    if (v === undefined) fail(`missing ${name}`);
    return v!;
  };
  const expectExact = (name: (typeof METADATA_NAMES)[number], expected: string): void => {
    const actual = get(name);
    if (actual !== expected) fail(`${name} is ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
  };
  /** "As in the key": the plain decimal value, or the key's 20-digit zero-padded form. */
  const expectRange = (name: 'coldstore-range-start' | 'coldstore-range-end', expected: bigint): void => {
    const actual = get(name);
    const ok = actual === expected.toString() || (/^[0-9]{20}$/.test(actual) && BigInt(actual) === expected);
    if (!ok) fail(`${name} is ${JSON.stringify(actual)}, expected ${JSON.stringify(expected.toString())} (from the key)`);
  };

  expectExact('coldstore-format', 'kafka-v1');
  expectExact('coldstore-records', String(records.length));
  expectRange('coldstore-range-start', parsedKey.start);
  expectRange('coldstore-range-end', parsedKey.end);
  const first = records[0];
  const last = records[records.length - 1];
  if (first === undefined || last === undefined) return fail('the bundle has no records, so first/last offsets are undefined');
  let min = first.timestamp;
  let max = first.timestamp;
  for (const r of records) {
    if (r.timestamp < min) min = r.timestamp;
    if (r.timestamp > max) max = r.timestamp;
  }
  expectExact('coldstore-first-offset', first.offset.toString());
  expectExact('coldstore-last-offset', last.offset.toString());
  expectExact('coldstore-min-timestamp', min.toString());
  expectExact('coldstore-max-timestamp', max.toString());
  expectExact('coldstore-first-timestamp', first.timestamp.toString());
  expectExact('coldstore-last-timestamp', last.timestamp.toString());
  const sha = get('coldstore-body-sha256');
  const expectedSha = createHash('sha256').update(container).digest('hex');
  if (!/^[0-9a-fA-F]{64}$/.test(sha) || sha.toLowerCase() !== expectedSha) {
    fail(`coldstore-body-sha256 is ${JSON.stringify(sha)}, but the uncompressed container hashes to ${expectedSha}`);
  }
  expectExact('coldstore-body-bytes', String(container.length));
}
