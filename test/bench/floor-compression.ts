/**
 * The floor baseline's extra work: each batch the consumer polls with the patched
 * client's packed consume (every key, value and header of the batch in one buffer, their
 * lengths, offsets and timestamps in one Float64Array: runtime/kafka/message.ts) is laid
 * into one buffer, numbers then bytes, and gzipped with coldstore's own codec (the native
 * ISA-L / libdeflate addon, node:zlib without it) at the case's level, on libuv's
 * threadpool, with as many batches in flight as the sink has bundle uploads by default.
 *
 * The layout is not Avro, but gzip sees the same keys and values with a few bytes of
 * framing per record, and the main thread pays one copy per batch: below what any
 * bundle encoding costs, so the floor is the limit for this client on this machine.
 */
import { compressorName, gzip, type CompressorName } from '../../runtime/api/compression.js';

/** The sink's default `upload.max.in.flight` (connectors/backup-sink/config.ts): bundles gzipped and uploaded at once. */
export const FLOOR_MAX_IN_FLIGHT = 4;

export interface FloorCompression {
  gzipLevel: number;
  compressor: CompressorName;
  batches: number;
  /** Bytes of the laid-out batches, and of their gzip output. */
  rawBytes: number;
  compressedBytes: number;
}

/** Lays out and gzips polled batches, at most `maxInFlight` at a time; `add` waits for a free slot as the sink waits for an upload slot. */
export class BatchCompressor {
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;
  private readonly totals: FloorCompression;

  constructor(
    gzipLevel: number,
    private readonly maxInFlight = FLOOR_MAX_IN_FLIGHT,
  ) {
    this.totals = { gzipLevel, compressor: compressorName(gzipLevel), batches: 0, rawBytes: 0, compressedBytes: 0 };
  }

  /** One packed batch (`consumePacked`'s data and numbers). */
  async add(data: Buffer, numbers: Float64Array): Promise<void> {
    if (numbers.length === 0) return;
    while (this.inFlight.size >= this.maxInFlight) await Promise.race(this.inFlight);
    this.throwIfFailed();
    const body = Buffer.concat([new Uint8Array(numbers.buffer, numbers.byteOffset, numbers.byteLength), data]);
    const job: Promise<void> = gzip(body, this.totals.gzipLevel)
      .then((compressed) => {
        this.totals.batches++;
        this.totals.rawBytes += body.length;
        this.totals.compressedBytes += compressed.length;
      })
      .catch((err: unknown) => {
        this.failure ??= err;
      })
      .finally(() => this.inFlight.delete(job));
    this.inFlight.add(job);
  }

  /** Waits for every batch still being compressed; their time counts on the floor's clock. */
  async drain(): Promise<FloorCompression> {
    await Promise.all(this.inFlight);
    this.throwIfFailed();
    return { ...this.totals };
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
