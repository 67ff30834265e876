/**
 * The floor baseline's extra work: each batch the plain consumer polls is laid into one
 * buffer and gzipped with coldstore's own codec (the native ISA-L / libdeflate addon,
 * node:zlib without it) at the case's level, on libuv's threadpool, with as many batches
 * in flight as the sink has bundle uploads by default.
 *
 * The layout is not Avro: per record, partition, offset and timestamp (8 bytes each),
 * then the key, the value and each header's name and value, each after its length (4
 * bytes; -1 for a null key or value). That keeps the bytes gzip sees close to a bundle's
 * (the same keys and values, a few bytes of framing per record) while costing the main
 * thread no more than one copy, so the floor stays below what any bundle encoding costs.
 */
import type { Message, MessageHeader } from '@confluentinc/kafka-javascript';
import { compressorName, gzip, type CompressorName } from '../../runtime/api/compression.js';

/** The sink's default `upload.max.in.flight` (connectors/backup-sink/config.ts): bundles gzipped and uploaded at once. */
export const FLOOR_MAX_IN_FLIGHT = 4;

const FIXED_RECORD_BYTES = 3 * 8 + 3 * 4;

function bytesOf(x: string | Buffer | null | undefined): Buffer | undefined {
  if (x === null || x === undefined) return undefined;
  return typeof x === 'string' ? Buffer.from(x) : x;
}

function headerEntries(headers: MessageHeader[] | undefined): [Buffer, Buffer][] {
  const out: [Buffer, Buffer][] = [];
  for (const header of headers ?? []) for (const [name, value] of Object.entries(header)) out.push([Buffer.from(name), bytesOf(value)!]);
  return out;
}

/** One buffer holding every record of the batch (layout above). */
export function layBatch(messages: readonly Message[]): Buffer {
  const records = messages.map((m) => ({ m, key: bytesOf(m.key), value: m.value ?? undefined, headers: headerEntries(m.headers) }));
  let size = 0;
  for (const r of records) {
    size += FIXED_RECORD_BYTES + (r.key?.length ?? 0) + (r.value?.length ?? 0);
    for (const [name, value] of r.headers) size += 8 + name.length + value.length;
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  const putBytes = (b: Buffer | undefined) => {
    at = out.writeInt32BE(b ? b.length : -1, at);
    if (b) at += b.copy(out, at);
  };
  for (const { m, key, value, headers } of records) {
    at = out.writeDoubleBE(m.partition, at);
    at = out.writeDoubleBE(m.offset, at);
    at = out.writeDoubleBE(m.timestamp ?? -1, at);
    putBytes(key);
    putBytes(value);
    at = out.writeInt32BE(headers.length, at);
    for (const [name, headerValue] of headers) {
      putBytes(name);
      putBytes(headerValue);
    }
  }
  return out;
}

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

  async add(messages: readonly Message[]): Promise<void> {
    if (messages.length === 0) return;
    while (this.inFlight.size >= this.maxInFlight) await Promise.race(this.inFlight);
    this.throwIfFailed();
    const body = layBatch(messages);
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
