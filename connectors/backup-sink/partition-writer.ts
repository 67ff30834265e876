import type { SinkRecord, TopicPartition } from '../../runtime/api/index.js';
import type { OffsetRange } from '../layouts/layout.js';

/**
 * Where an open bundle's records go as they arrive: the kafka layout encodes each at
 * once (nothing per record is kept); the azul layout keeps them (KeptRecords).
 */
export interface OpenBundle {
  add(record: SinkRecord): void;
  /** Its size so far, when it knows it: the next bundle of the partition starts with that much room. */
  readonly encodedBytes?: number;
}

const copied = (bytes: Buffer | null): Buffer | null => (bytes === null ? null : Buffer.from(bytes));

/**
 * Records kept whole until the bundle seals, for a layout that needs them then. Their
 * bytes are copied: a polled record's buffers are views of its whole batch, and keeping
 * the views would keep every batch alive until the last bundle holding one of its
 * records sealed, beyond what the open-bytes budget counts.
 */
export class KeptRecords implements OpenBundle {
  readonly records: SinkRecord[] = [];

  add(record: SinkRecord): void {
    const headers = record.headers.map((h) => ({ key: h.key, value: copied(h.value) }));
    this.records.push({ ...record, key: copied(record.key), value: copied(record.value), headers });
  }
}

/** A bundle whose boundaries are fixed: its records go to S3 under a key derived from them. */
export interface SealedBundle<Body extends OpenBundle = OpenBundle> extends OffsetRange {
  body: Body;
  /** How many records the body holds. */
  records: number;
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
export interface WriterOutput<Body extends OpenBundle> {
  readonly sealed: readonly SealedBundle<Body>[];
  /** Planned ranges finished without an upload: already durable, or every record gone. */
  readonly skipped: readonly PlannedRange[];
}

/** What one add() is closing, filled as it goes. */
interface Closing<Body extends OpenBundle> {
  sealed: SealedBundle<Body>[];
  skipped: PlannedRange[];
}

/** What most add() calls return: shared, and frozen so no caller can fill it. */
const NOTHING_CLOSED: WriterOutput<never> = Object.freeze({ sealed: Object.freeze([]), skipped: Object.freeze([]) });

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
export class PartitionWriter<Body extends OpenBundle = KeptRecords> {
  private openBody: Body | undefined;
  private bufferRecords = 0;
  private bufferBytes = 0;
  private lastOffset = 0n;
  /** How large the partition's last bundle was encoded. */
  private lastEncodedBytes = 0;
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
    private readonly newBody: (expectedBytes: number) => Body = () => new KeptRecords() as OpenBundle as Body,
  ) {
    this.nextStart = start;
  }

  get bufferedRecords(): number {
    return this.bufferRecords;
  }

  /** The keys, values and headers of the open bundle. */
  get bufferedBytes(): number {
    return this.bufferBytes;
  }

  /** A range fixed before a crash is still to be rebuilt: bundles close only at their planned boundaries. */
  get rebuilding(): boolean {
    return this.plan.length > 0;
  }

  /** Adds a record (offsets increasing); returns the bundles this closed, in order. */
  add(record: SinkRecord, now: number): WriterOutput<Body> {
    if (this.plan.length === 0) {
      // The path of nearly every record: no range fixed before a crash, and usually nothing closes.
      this.push(record, now, this.nextStart ?? record.offset);
      return this.full() ? { sealed: [this.seal(record.offset)], skipped: [] } : NOTHING_CLOSED;
    }
    const out: Closing<Body> = { sealed: [], skipped: [] };
    const o = record.offset;
    // Planned ranges the stream has moved past are complete: their missing records no longer exist.
    while (this.plan[0] && o > this.plan[0].end) {
      // A normal bundle open before the range ends where the range begins.
      if (this.bufferRecords > 0 && !this.bufferIsPlanned(this.plan[0])) out.sealed.push(this.seal(this.plan[0].start - 1n));
      this.finishPlanned(out);
    }
    const planned = this.plan[0];
    if (planned && o >= planned.start) {
      if (this.bufferRecords > 0 && !this.bufferIsPlanned(planned)) out.sealed.push(this.seal(planned.start - 1n));
      if (!planned.durable) this.push(record, now, planned.start);
      if (o === planned.end) this.finishPlanned(out);
      return out;
    }
    this.push(record, now, this.nextStart ?? o);
    if (planned) return out; // Before a planned range: only the planned start may close this bundle.
    if (this.full()) out.sealed.push(this.seal(o));
    return out;
  }

  private full(): boolean {
    return this.bufferRecords >= this.limits.maxRecords || this.bufferBytes >= this.limits.maxBytes;
  }

  private bufferIsPlanned(planned: PlannedRange): boolean {
    return this.bufferStart === planned.start;
  }

  private push(record: SinkRecord, now: number, start: bigint): void {
    if (this.bufferRecords === 0) {
      this.bufferStart = start;
      this.openedAt = now;
      this.openBody = this.newBody(this.lastEncodedBytes);
    }
    this.openBody!.add(record);
    this.bufferRecords++;
    this.bufferBytes += recordBytes(record);
    this.lastOffset = record.offset;
  }

  private finishPlanned(out: Closing<Body>): void {
    const planned = this.plan.shift()!;
    if (planned.durable || this.bufferRecords === 0) {
      this.nextStart = planned.end + 1n;
      out.skipped.push(planned);
      return;
    }
    out.sealed.push(this.seal(planned.end));
  }

  private seal(end: bigint): SealedBundle<Body> {
    const bundle: SealedBundle<Body> = {
      topic: this.tp.topic,
      partition: this.tp.partition,
      start: this.bufferStart!,
      end,
      body: this.openBody!,
      records: this.bufferRecords,
      bytes: this.bufferBytes,
    };
    this.lastEncodedBytes = this.openBody?.encodedBytes ?? 0;
    this.openBody = undefined;
    this.bufferRecords = 0;
    this.bufferBytes = 0;
    this.bufferStart = undefined;
    this.nextStart = end + 1n;
    return bundle;
  }

  /** Closes a normal bundle that has been open longer than the age limit. */
  sealIfAged(now: number): SealedBundle<Body> | undefined {
    if (this.bufferRecords === 0 || this.plan.length > 0) return undefined;
    return now - this.openedAt >= this.limits.maxAgeMs ? this.seal(this.lastOffset) : undefined;
  }

  /**
   * Closes whatever is buffered (shutdown, revocation). A planned range stays open:
   * it may only close with its exact boundaries, once its last record arrives.
   */
  sealBuffered(): SealedBundle<Body>[] {
    if (this.bufferRecords === 0 || this.plan.length > 0) return [];
    return [this.seal(this.lastOffset)];
  }
}
