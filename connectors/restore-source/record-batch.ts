import type { SourceRecord } from '../../runtime/api/index.js';

/**
 * Collects one poll's records from slices (bundles of one partition or another): fewer,
 * larger batches and transactions. The readers have moved past what is collected, so an
 * error met after some records were collected is held and raised by the next poll, once
 * those are handed out.
 */
export class RecordBatcher {
  private deferred: unknown;

  constructor(private readonly nextSlice: (max: number) => Promise<SourceRecord[]>) {}

  async next(max: number): Promise<SourceRecord[]> {
    if (this.deferred !== undefined) {
      const err = this.deferred;
      this.deferred = undefined;
      throw err;
    }
    const out: SourceRecord[] = [];
    while (out.length < max) {
      let slice: SourceRecord[];
      try {
        slice = await this.nextSlice(max - out.length);
      } catch (err) {
        if (out.length === 0) throw err;
        this.deferred = err;
        break;
      }
      if (slice.length === 0) break;
      for (const r of slice) out.push(r);
    }
    return out;
  }
}
