/**
 * When a partition's log end first passed each offset, as this worker saw it: what the
 * status page needs to say how long the oldest record not yet durable has been waiting.
 * Kafka does not say when a record was appended without reading it, and the record's own
 * timestamp is whatever its producer chose; the end offset observed every tick is cheap
 * and needs no broker round trip.
 */
export interface UndurableAge {
  /** Milliseconds since the oldest record not yet durable reached the log end (0: everything is durable). */
  ageMs: number;
  /**
   * The record was already there when this worker began watching the partition, so it
   * has waited at least ageMs (e.g. after a restart with a backlog).
   */
  atLeast: boolean;
}

/** Bounded: a partition lagging for hours keeps this many observations, coarser the older they are. */
export const ARRIVAL_LOG_CAPACITY = 256;

export class ArrivalLog {
  /** (time, end offset) with strictly increasing ends: the first time each end was seen. */
  private readonly seen: { at: number; end: number }[] = [];
  private firstAt: number | undefined;
  /** Whether seen[0] is the very first observation, whose records may have arrived earlier. */
  private firstKept = true;
  /** Observations closer than this to the previous one extend it: grows as a long lag is thinned. */
  private spacingMs = 0;
  /** The last end observed, kept when `seen` is emptied by a caught-up partition. */
  private lastEnd: number | undefined;

  constructor(private readonly capacity = ARRIVAL_LOG_CAPACITY) {}

  /**
   * The log end offset seen at `at` (ms). An end lower than the last one means the topic
   * was deleted and recreated (or truncated): the old observations describe offsets of
   * another log, and kept they would age forever, so the log starts over as if this were
   * its first observation; the records already in the new log show "at least".
   */
  observe(at: number, end: number): void {
    if (this.lastEnd !== undefined && end < this.lastEnd) this.restart();
    this.lastEnd = end;
    this.firstAt ??= at;
    const last = this.seen[this.seen.length - 1];
    if (last && end <= last.end) return;
    // Extending keeps the earlier time for the new records too: their age is rounded up.
    if (last && at - last.at < this.spacingMs) last.end = end;
    else this.seen.push({ at, end });
    if (this.seen.length > this.capacity) this.thin();
  }

  /**
   * How long the record at `durable` (the first one not yet durable) has waited at `now`.
   * Observations at or below `durable` can never answer again (durable positions only
   * move forward), so they are dropped here.
   */
  age(durable: number, now: number): UndurableAge {
    let drop = 0;
    while (drop < this.seen.length && this.seen[drop]!.end <= durable) drop++;
    if (drop > 0) {
      this.seen.splice(0, drop);
      this.firstKept = false;
    }
    const oldest = this.seen[0];
    if (!oldest) {
      // Caught up: the next lag is measured at full resolution again.
      this.spacingMs = 0;
      return { ageMs: 0, atLeast: false };
    }
    return { ageMs: Math.max(0, now - oldest.at), atLeast: this.firstKept && oldest.at === this.firstAt };
  }

  private restart(): void {
    this.seen.length = 0;
    this.firstAt = undefined;
    this.firstKept = true;
    this.spacingMs = 0;
  }

  /**
   * Halves the observations by merging neighbours, and widens the spacing of the next
   * ones to match, so they stay evenly spread over the lag: an offset whose observation
   * went is attributed to the one before it, so the age is rounded up, never down (an
   * operator is warned early rather than late), by at most about 2 x lag / capacity.
   */
  private thin(): void {
    const merged: { at: number; end: number }[] = [];
    // Each pair becomes one: the earlier time with the later end.
    for (let i = 0; i < this.seen.length; i += 2) merged.push({ at: this.seen[i]!.at, end: (this.seen[i + 1] ?? this.seen[i]!).end });
    this.seen.splice(0, this.seen.length, ...merged);
    this.spacingMs = (2 * (merged[merged.length - 1]!.at - merged[0]!.at)) / merged.length;
  }
}
