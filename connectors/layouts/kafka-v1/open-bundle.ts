import avro from 'avsc';
import type { SinkRecord } from '../../../runtime/api/index.js';
import { BLOCK_BYTES, syncMarkerFor } from './avro-container.js';
import { KafkaRecordEncoder } from './record-encoder.js';
import { KAFKA_CONTAINER_HEADER } from './record-schema.js';

const SYNC_BYTES = 16;
/** A block's count and size, two Avro longs, take at most this many bytes. */
const MAX_FRAMING_BYTES = 20;
const longType = avro.Type.forSchema('long');

/** One Avro data block: its records and where their bytes lie in the encoder. */
interface Block {
  count: number;
  from: number;
  to: number;
}

/** What a bundle's metadata states about its records. */
export interface BundleFigures {
  records: number;
  firstOffset: bigint;
  lastOffset: bigint;
  firstTimestamp: number;
  lastTimestamp: number;
  minTimestamp: number;
  maxTimestamp: number;
}

/**
 * A kafka-v1 bundle being filled: each record is encoded as it arrives, so nothing
 * per record is kept until the bundle seals. The container's header and sync markers
 * need the bundle's key, known only once it seals: room is left for them before each
 * block and after it, and `container` fills it in, moving no bytes of the first block.
 */
export class OpenKafkaBundle {
  private readonly encoder: KafkaRecordEncoder;
  private readonly blocks: Block[] = [];
  private blockFrom: number;
  private blockCount = 0;
  private figures: BundleFigures | undefined;
  private assembled: { key: string; container: Buffer } | undefined;

  /** `expectedBytes`: about how large the bundle will be (the one before it, say), so its buffer rarely grows. */
  constructor(expectedBytes = 0) {
    this.encoder = new KafkaRecordEncoder(expectedBytes > 0 ? Math.ceil(expectedBytes * 1.1) + 64 * 1024 : undefined);
    this.encoder.skip(KAFKA_CONTAINER_HEADER.length + SYNC_BYTES + MAX_FRAMING_BYTES);
    this.blockFrom = this.encoder.length;
  }

  add(record: SinkRecord): void {
    if (this.assembled) throw new Error('the bundle is sealed');
    this.encoder.write(record);
    this.blockCount++;
    if (this.encoder.length - this.blockFrom >= BLOCK_BYTES) this.cutBlock();
    const ts = record.timestamp;
    const f = this.figures;
    if (!f) {
      this.figures = {
        records: 1,
        firstOffset: record.offset,
        lastOffset: record.offset,
        firstTimestamp: ts,
        lastTimestamp: ts,
        minTimestamp: ts,
        maxTimestamp: ts,
      };
      return;
    }
    f.records++;
    f.lastOffset = record.offset;
    f.lastTimestamp = ts;
    if (ts < f.minTimestamp) f.minTimestamp = ts;
    if (ts > f.maxTimestamp) f.maxTimestamp = ts;
  }

  get records(): number {
    return this.figures?.records ?? 0;
  }

  /** The bytes it takes so far, for the size of the next bundle's buffer. */
  get encodedBytes(): number {
    return this.encoder.length;
  }

  /** The figures of a bundle holding at least one record. */
  get recordFigures(): BundleFigures {
    if (!this.figures) throw new Error('an empty bundle has no figures');
    return this.figures;
  }

  /** Ends the block, leaving room for its sync marker and the next block's framing. */
  private cutBlock(): void {
    if (this.blockCount === 0) return;
    this.blocks.push({ count: this.blockCount, from: this.blockFrom, to: this.encoder.length });
    this.encoder.skip(SYNC_BYTES + MAX_FRAMING_BYTES);
    this.blockFrom = this.encoder.length;
    this.blockCount = 0;
  }

  /**
   * The Avro object container of the bundle stored under `key` (its sync marker comes
   * from the key): a view of the encoder's buffer. Later blocks move down to close the
   * room their framing did not need. Call it once, when the bundle is sealed.
   */
  container(key: string): Buffer {
    // Assembling moves later blocks down: a second call must not do it again.
    if (this.assembled) {
      if (this.assembled.key !== key) throw new Error(`the bundle was sealed as ${this.assembled.key}, not ${key}`);
      return this.assembled.container;
    }
    this.cutBlock();
    const sync = syncMarkerFor(key);
    const buffer = this.encoder.bytes;
    const [first, ...rest] = this.blocks;
    if (!first) throw new Error('an empty bundle has no container');
    const firstFraming = framing(first);
    const start = first.from - firstFraming.length - SYNC_BYTES - KAFKA_CONTAINER_HEADER.length;
    let at = start + KAFKA_CONTAINER_HEADER.copy(buffer, start);
    at += sync.copy(buffer, at);
    at += firstFraming.copy(buffer, at);
    at = first.to;
    at += sync.copy(buffer, at);
    for (const block of rest) {
      at += framing(block).copy(buffer, at);
      buffer.copyWithin(at, block.from, block.to);
      at += block.to - block.from;
      at += sync.copy(buffer, at);
    }
    this.assembled = { key, container: buffer.subarray(start, at) };
    return this.assembled.container;
  }
}

function framing(block: Block): Buffer {
  return Buffer.concat([longType.toBuffer(block.count), longType.toBuffer(block.to - block.from)]);
}
