import type { SinkRecord, TimestampType } from '../../../runtime/api/index.js';

/** The enum's symbol indexes as Avro writes them: zig-zag longs, one byte each. */
const TIMESTAMP_TYPE_BYTE: Partial<Record<TimestampType, number>> = { CREATE_TIME: 0, LOG_APPEND_TIME: 2, NOT_AVAILABLE: 4 };
/** The most bytes an Avro long takes (zig-zag varint of 64 bits). */
const MAX_LONG_BYTES = 10;
/** Room for a first bundle: later ones start at the size of the one before (see OpenKafkaBundle). */
const DEFAULT_CAPACITY = 64 * 1024;

/** The largest magnitude of a long the format's readers (avsc) take back exactly. */
const MAX_EXACT_LONG = Number.MAX_SAFE_INTEGER - 1;
const MAX_EXACT_OFFSET = BigInt(MAX_EXACT_LONG);

/** Offsets from 2^53 - 1 on cannot be carried as a JavaScript number; Kafka's never get near. */
export function safeOffset(offset: bigint): number {
  if (offset > MAX_EXACT_OFFSET) throw new Error(`Offset ${offset} exceeds 2^53 - 2 and cannot be encoded`);
  return Number(offset);
}

/**
 * A timestamp the format holds exactly (milliseconds, within ±(2^53 - 2)). One beyond
 * (a producer writing nanoseconds, say) would be stored rounded and could not be read
 * back, so the record is refused and the task fails before any offset passes it.
 */
function safeTimestamp(record: SinkRecord, offset: number): number {
  const ts = record.timestamp;
  if (!Number.isInteger(ts) || Math.abs(ts) > MAX_EXACT_LONG) {
    throw new Error(
      `Record ${record.topic}/${record.partition}@${offset} has timestamp ${ts}, which the kafka-v1 format cannot hold exactly (milliseconds within ±(2^53 - 2)); ` +
        'exclude the topic (topics.exclude.regex) or have its producers write millisecond timestamps',
    );
  }
  return ts;
}

/**
 * Writes coldstore.v1.KafkaRecord (docs/formats.md) in Avro's binary encoding straight
 * from a SinkRecord into one growing buffer: the bytes avsc writes for the same record
 * (a unit test holds them equal), without an intermediate object per record, so a
 * record's buffers can be let go as soon as it is encoded.
 */
export class KafkaRecordEncoder {
  private buffer: Buffer;
  private used = 0;
  private topicPrefix: Buffer | undefined;
  private prefixOf: { topic: string; partition: number } | undefined;

  /** A fresh buffer of `capacity` bytes: growing one costs a copy, and fresh memory, each time. */
  constructor(capacity = DEFAULT_CAPACITY) {
    this.buffer = Buffer.allocUnsafe(Math.max(capacity, 1024));
  }

  /** Bytes written so far. */
  get length(): number {
    return this.used;
  }

  /** The whole buffer (its first `length` bytes written), valid until the next write. */
  get bytes(): Buffer {
    return this.buffer;
  }

  /** Leaves `count` bytes for the caller to fill in later (through `bytes`). */
  skip(count: number): void {
    this.reserve(count);
    this.used += count;
  }

  /** The encoded bytes between two lengths (a view, valid until the next write). */
  view(from: number, to: number): Buffer {
    return this.buffer.subarray(from, to);
  }

  write(record: SinkRecord): void {
    // Checked before anything is written, so a refused record leaves no partial bytes.
    const offset = safeOffset(record.offset);
    const timestamp = safeTimestamp(record, offset);
    const timestampType = TIMESTAMP_TYPE_BYTE[record.timestampType];
    if (timestampType === undefined)
      throw new Error(`Record ${record.topic}/${record.partition}@${offset} has an unknown timestamp type ${String(record.timestampType)}`);
    const prefix = this.prefix(record.topic, record.partition);
    this.reserve(prefix.length + 2 * MAX_LONG_BYTES + 1 + bytesRoom(record.key) + bytesRoom(record.value) + headersRoom(record));
    this.buffer.set(prefix, this.used);
    this.used += prefix.length;
    this.writeLong(offset);
    this.writeLong(timestamp);
    this.buffer[this.used++] = timestampType;
    this.writeNullableBytes(record.key);
    this.writeNullableBytes(record.value);
    const headers = record.headers;
    if (headers.length > 0) {
      this.writeLong(headers.length);
      for (const header of headers) {
        this.writeString(header.key);
        this.writeNullableBytes(header.value);
      }
    }
    this.buffer[this.used++] = 0; // the end of the headers array
  }

  /** topic (string) and partition (int) encoded once: every record of a bundle has the same. */
  private prefix(topic: string, partition: number): Buffer {
    if (this.topicPrefix && this.prefixOf?.topic === topic && this.prefixOf.partition === partition) return this.topicPrefix;
    const saved = { buffer: this.buffer, used: this.used };
    this.buffer = Buffer.allocUnsafe(Buffer.byteLength(topic, 'utf8') + 2 * MAX_LONG_BYTES);
    this.used = 0;
    this.writeString(topic);
    this.writeLong(partition);
    this.topicPrefix = Buffer.from(this.buffer.subarray(0, this.used));
    this.prefixOf = { topic, partition };
    ({ buffer: this.buffer, used: this.used } = saved);
    return this.topicPrefix;
  }

  reserve(bytes: number): void {
    if (this.used + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.used + bytes));
    grown.set(this.buffer.subarray(0, this.used));
    this.buffer = grown;
  }

  private writeNullableBytes(bytes: Buffer | null): void {
    if (bytes === null) {
      this.buffer[this.used++] = 0; // union branch 0: null
      return;
    }
    this.buffer[this.used++] = 2; // union branch 1 (zig-zag 1): bytes
    this.writeLong(bytes.length);
    this.buffer.set(bytes, this.used);
    this.used += bytes.length;
  }

  private writeString(text: string): void {
    const length = Buffer.byteLength(text, 'utf8');
    this.writeLong(length);
    this.buffer.write(text, this.used, length, 'utf8');
    this.used += length;
  }

  /** Avro long: zig-zag, then 7 bits per byte, low bits first. Exact for every safe integer. */
  writeLong(n: number): void {
    const buf = this.buffer;
    if (n >= -0x40000000 && n < 0x40000000) {
      let zigzag = n >= 0 ? n << 1 : (~n << 1) | 1;
      while (zigzag > 0x7f) {
        buf[this.used++] = (zigzag & 0x7f) | 0x80;
        zigzag >>>= 7;
      }
      buf[this.used++] = zigzag;
      return;
    }
    let zigzag = n >= 0 ? n * 2 : -n * 2 - 1;
    while (zigzag > 0x7f) {
      const low = zigzag % 128;
      buf[this.used++] = low | 0x80;
      zigzag = (zigzag - low) / 128;
    }
    buf[this.used++] = zigzag;
  }
}

function bytesRoom(bytes: Buffer | null): number {
  return 1 + (bytes === null ? 0 : MAX_LONG_BYTES + bytes.length);
}

function headersRoom(record: SinkRecord): number {
  let room = MAX_LONG_BYTES + 1;
  for (const header of record.headers) room += MAX_LONG_BYTES + 3 * header.key.length + bytesRoom(header.value);
  return room;
}
