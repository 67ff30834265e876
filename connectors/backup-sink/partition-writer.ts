import type { SinkRecord, TopicPartition } from '../../runtime/api/index.js';
import type { OffsetRange } from '../layouts/layout.js';

/** A bundle whose boundaries are fixed: its records go to S3 under a key derived from them. */
export interface SealedBundle extends OffsetRange {
  records: SinkRecord[];
  bytes: number;
}

/**
 * A range fixed before a crash: a bundle already in the store (`durable`, its
 * records are skipped) or one sealed but maybe not uploaded (its write-ahead
 * intent, rebuilt with exactly these boundaries).
 */
export interface PlannedRange {
  start: bigint;
  end: bigint;
  durable: boolean;
}

/** What add() produced: bundles to upload, and planned ranges that need no upload. */
export interface WriterOutput {
  sealed: SealedBundle[];
  /** Planned ranges finished without an upload: already durable, or every record gone. */
  skipped: PlannedRange[];
}

export interface BundleLimits {
  maxRecords: number;
  maxBytes: number;
  maxAgeMs: number;
}

export function recordBytes(r: SinkRecord): number {
  let bytes = (r.key?.length ?? 0) + (r.value?.length ?? 0);
  for (const h of r.headers) bytes += h.key.length + (h.value?.length ?? 0);
  return bytes;
}

/**
 * Cuts one partition's records into bundles. Bundles tile the offset space: each
 * starts at the previous one's end + 1, so offsets with no record (compaction,
 * transaction markers) are still covered. Normal bundles close by count, bytes
 * or age; planned ranges (bundles sealed before a crash) are rebuilt with exactly
 * their old boundaries, whatever the limits, so the same key gets the same bytes.
 */
export class PartitionWriter {
  private buffer: SinkRecord[] = [];
  private bufferBytes = 0;
  private openedAt = 0;
  /** Where the buffered bundle starts (its key's start). */
  private bufferStart: bigint | undefined;
  /** Where the next bundle starts; undefined until the first record when the start is unknown. */
  private nextStart: bigint | undefined;

  constructor(
    readonly tp: TopicPartition,
    private readonly limits: BundleLimits,
    start: bigint | undefined,
    private readonly plan: PlannedRange[] = [],
  ) {
    this.nextStart = start;
  }

  get bufferedRecords(): number {
    return this.buffer.length;
  }

  /** Adds a record (offsets increasing); returns the bundles this closed, in order. */
  add(record: SinkRecord, now: number): WriterOutput {
    const out: WriterOutput = { sealed: [], skipped: [] };
    const o = record.offset;
    // Planned ranges the stream has moved past are complete: their missing records no longer exist.
    while (this.plan[0] && o > this.plan[0].end) {
      // A normal bundle open before the range ends where the range begins.
      if (this.buffer.length > 0 && !this.bufferIsPlanned(this.plan[0])) out.sealed.push(this.seal(this.plan[0].start - 1n));
      this.finishPlanned(out);
    }
    const planned = this.plan[0];
    if (planned && o >= planned.start) {
      if (this.buffer.length > 0 && !this.bufferIsPlanned(planned)) out.sealed.push(this.seal(planned.start - 1n));
      if (!planned.durable) this.push(record, now, planned.start);
      if (o === planned.end) this.finishPlanned(out);
      return out;
    }
    this.push(record, now, this.nextStart ?? o);
    if (planned) return out; // Before a planned range: only the planned start may close this bundle.
    if (this.buffer.length >= this.limits.maxRecords || this.bufferBytes >= this.limits.maxBytes) out.sealed.push(this.seal(o));
    return out;
  }

  private bufferIsPlanned(planned: PlannedRange): boolean {
    return this.bufferStart === planned.start;
  }

  private push(record: SinkRecord, now: number, start: bigint): void {
    if (this.buffer.length === 0) {
      this.bufferStart = start;
      this.openedAt = now;
    }
    this.buffer.push(record);
    this.bufferBytes += recordBytes(record);
  }

  private finishPlanned(out: WriterOutput): void {
    const planned = this.plan.shift()!;
    if (planned.durable || this.buffer.length === 0) {
      this.nextStart = planned.end + 1n;
      out.skipped.push(planned);
      return;
    }
    out.sealed.push(this.seal(planned.end));
  }

  private seal(end: bigint): SealedBundle {
    const bundle: SealedBundle = {
      topic: this.tp.topic,
      partition: this.tp.partition,
      start: this.bufferStart!,
      end,
      records: this.buffer,
      bytes: this.bufferBytes,
    };
    this.buffer = [];
    this.bufferBytes = 0;
    this.bufferStart = undefined;
    this.nextStart = end + 1n;
    return bundle;
  }

  /** Closes a normal bundle that has been open longer than the age limit. */
  sealIfAged(now: number): SealedBundle | undefined {
    if (this.buffer.length === 0 || this.plan.length > 0) return undefined;
    return now - this.openedAt >= this.limits.maxAgeMs ? this.seal(this.buffer[this.buffer.length - 1]!.offset) : undefined;
  }

  /**
   * Closes whatever is buffered (shutdown, revocation). A planned range stays open:
   * it may only close with its exact boundaries, once its last record arrives.
   */
  sealBuffered(): SealedBundle[] {
    if (this.buffer.length === 0 || this.plan.length > 0) return [];
    return [this.seal(this.buffer[this.buffer.length - 1]!.offset)];
  }
}
