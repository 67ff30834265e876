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
    this.chunks.push(MAGIC, headerMetaType.toBuffer({ 'avro.schema': Buffer.from(schemaJson, 'utf8'), 'avro.codec': Buffer.from('null') }), sync);
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
