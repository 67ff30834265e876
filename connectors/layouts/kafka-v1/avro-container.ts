import { createHash } from 'node:crypto';
import avro from 'avsc';

const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]);
const headerMetaType = avro.Type.forSchema({ type: 'map', values: 'bytes' });
const longType = avro.Type.forSchema('long');

/** Bytes of serialized records after which a new block starts (docs/formats.md). */
export const BLOCK_BYTES = 1024 * 1024;

/** The 16-byte sync marker derived from the object key: a rebuilt bundle is byte-identical. */
export function syncMarkerFor(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest().subarray(0, 16);
}

/** The container's header: magic bytes and metadata holding exactly `avro.schema` and `avro.codec` (null). */
export function containerHeader(schemaJson: string): Buffer {
  return Buffer.concat([MAGIC, headerMetaType.toBuffer({ 'avro.schema': Buffer.from(schemaJson, 'utf8'), 'avro.codec': Buffer.from('null') })]);
}

/**
 * Writes an Avro Object Container File (codec `null`) deterministically: the
 * header holds exactly `avro.schema` and `avro.codec`, the sync marker comes from
 * the caller, and blocks are cut at BLOCK_BYTES of serialized records.
 */
export class AvroContainerWriter<T> {
  private readonly chunks: Buffer[] = [];
  private block: Buffer;
  private blockUsed = 0;
  private blockCount = 0;

  constructor(
    private readonly type: avro.Type,
    schemaJson: string,
    private readonly sync: Buffer,
    sizeHint = 64 * 1024,
  ) {
    this.chunks.push(containerHeader(schemaJson), sync);
    this.block = Buffer.allocUnsafe(Math.min(Math.max(sizeHint, 1024), BLOCK_BYTES * 2));
  }

  append(record: T): void {
    for (;;) {
      const next = this.type.encode(record, this.block, this.blockUsed);
      if (next >= 0) {
        this.blockUsed = next;
        break;
      }
      // avsc returns -(bytes missing): grow and retry this record.
      const grown = Buffer.allocUnsafe(Math.max(this.block.length * 2, this.blockUsed - next));
      this.block.copy(grown, 0, 0, this.blockUsed);
      this.block = grown;
    }
    this.blockCount++;
    if (this.blockUsed >= BLOCK_BYTES) this.flushBlock();
  }

  private flushBlock(): void {
    if (this.blockCount === 0) return;
    this.chunks.push(longType.toBuffer(this.blockCount), longType.toBuffer(this.blockUsed), Buffer.from(this.block.subarray(0, this.blockUsed)), this.sync);
    this.blockUsed = 0;
    this.blockCount = 0;
  }

  finish(): Buffer {
    this.flushBlock();
    return Buffer.concat(this.chunks);
  }
}

export interface AvroContainer {
  schemaJson: string;
  codec: string;
  /** Each data block: its record count and serialized records. */
  blocks: { count: number; data: Buffer }[];
}

/** Parses an Avro Object Container File; throws naming what is wrong (truncated, bad magic, sync mismatch). */
export function readAvroContainer(buf: Buffer): AvroContainer {
  if (buf.length < 4 || !buf.subarray(0, 4).equals(MAGIC)) throw new Error('not an Avro object container (bad magic bytes)');
  const tap = { pos: 4 };
  const meta = decodeAt(headerMetaType, buf, tap, 'header metadata') as Record<string, Buffer>;
  const sync = take(buf, tap, 16, 'sync marker');
  const blocks: AvroContainer['blocks'] = [];
  while (tap.pos < buf.length) {
    const count = decodeAt(longType, buf, tap, 'block count') as number;
    const size = decodeAt(longType, buf, tap, 'block size') as number;
    if (count < 0 || size < 0) throw new Error(`invalid block header at byte ${tap.pos}`);
    const data = take(buf, tap, size, 'block data');
    if (!take(buf, tap, 16, 'block sync marker').equals(sync)) throw new Error(`sync marker mismatch after the block ending at byte ${tap.pos - 16}`);
    blocks.push({ count, data });
  }
  return { schemaJson: meta['avro.schema']?.toString('utf8') ?? '', codec: meta['avro.codec']?.toString('utf8') ?? 'null', blocks };
}

function take(buf: Buffer, tap: { pos: number }, length: number, what: string): Buffer {
  if (tap.pos + length > buf.length) throw new Error(`truncated: ${what} needs ${length} bytes at byte ${tap.pos} of ${buf.length}`);
  const out = buf.subarray(tap.pos, tap.pos + length);
  tap.pos += length;
  return out;
}

function decodeAt(type: avro.Type, buf: Buffer, tap: { pos: number }, what: string): unknown {
  const { value, offset } = type.decode(buf, tap.pos);
  if (offset < 0) throw new Error(`truncated: ${what} at byte ${tap.pos} of ${buf.length}`);
  tap.pos = offset;
  return value;
}

/** Decodes every record of the container's blocks with `type`; a block whose bytes do not hold exactly its records is an error. */
export function decodeBlocks<T>(container: AvroContainer, type: avro.Type): T[] {
  const records: T[] = [];
  for (const [index, block] of container.blocks.entries()) {
    let pos = 0;
    for (let i = 0; i < block.count; i++) {
      const { value, offset } = type.decode(block.data, pos);
      if (offset < 0) throw new Error(`truncated: block ${index} ends inside record ${i} of ${block.count}`);
      records.push(value as T);
      pos = offset;
    }
    if (pos !== block.data.length) throw new Error(`block ${index} holds ${block.data.length - pos} bytes after its ${block.count} records`);
  }
  return records;
}
