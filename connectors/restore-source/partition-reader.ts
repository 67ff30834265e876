import { RetriableError, type TopicPartition } from '../../runtime/api/index.js';
import type { Location } from '../common/backup-location.js';
import { parseKafkaBundleKey } from '../layouts/kafka-v1/bundle-keys.js';
import { retryTransient, type ObjectStore } from '../common/object-store/object-store.js';
import { BadObjectError } from './bad-object.js';
import { fetchBundle, type FetchedBundle } from './bundle-fetch.js';

export interface ReaderOptions {
  store: ObjectStore;
  location: Location;
  tp: TopicPartition;
  /** The last restored bundle (key without location prefix) and record offset, when resuming. */
  resume?: { key: string; offset: bigint };
  /** First offset to restore (a backup by id starts at its cut's log start offset). */
  fromOffset?: bigint;
  /** Last offset to restore (inclusive). */
  untilOffset?: bigint;
  /** The bundles to read (a backup by id: its manifest's, with their checksums) instead of listing the partition. */
  objects?: readonly { key: string; sha256: string }[];
  fetchAhead: number;
  /**
   * Follow mode: a bundle that starts after a gap is held (not read past) until the gap
   * fills, for at most this long, because the backup uploads bundles in parallel.
   * Unset: a gap is reported at once (a finished backup's gap is real).
   */
  gapWaitMs?: number;
  /** Follow mode, no resume point: where the partition's backup starts (its first range claim), so a first bundle landing late is waited for too. */
  expectedFirst?: bigint;
  /** A bad object or gap: rethrow to fail, return to skip it. */
  onBadObject: (err: BadObjectError) => void;
}

interface Pending {
  key: string;
  result: Promise<FetchedBundle>;
}

/**
 * Reads one partition's bundles in offset order with a bounded number fetched
 * ahead. Listing starts after the last restored key (StartAfter), so resuming
 * costs one listing call, not a scan. Coverage is checked as it goes: each
 * bundle must start right after the previous one ended.
 */
export class PartitionReader {
  private listing: AsyncIterator<{ key: string }> | undefined;
  private readonly ahead: Pending[] = [];
  /** The last key handed out (without prefix): a transient failure lists again from here. */
  private lastKey: string | undefined;
  private expectedStart: bigint | undefined;
  private listedAll = false;
  private resumePending: boolean;
  /** Follow mode: the offsets missing before the next listed bundle, and since when. */
  private gap: { from: bigint; to: bigint; since: number } | undefined;
  /** The end offset of the newest bundle listed so far: how far the backup is. */
  private listedEnd: bigint | undefined;
  /** The offset after the last bundle taken into the fetch-ahead queue. */
  private listedNext: bigint | undefined;

  private readonly checksums: Map<string, string> | undefined;

  constructor(private readonly options: ReaderOptions) {
    this.lastKey = options.resume?.key;
    this.expectedStart = options.resume ? undefined : options.expectedFirst;
    this.listedEnd = options.resume ? parseKafkaBundleKey(options.resume.key)?.end : undefined;
    this.resumePending = options.resume !== undefined;
    this.checksums = options.objects ? new Map(options.objects.map((o) => [o.key, o.sha256])) : undefined;
  }

  /** The partition's bundle keys (with the location prefix) after the last one handed out. */
  private list(): AsyncIterable<{ key: string }> {
    const { store, location, objects } = this.options;
    const after = this.lastKey;
    if (!objects) return store.list(location.bucket, this.prefix, after === undefined ? undefined : `${location.prefix}${after}`);
    return (async function* () {
      for (const o of objects) if (after === undefined || o.key > after) yield { key: `${location.prefix}${o.key}` };
    })();
  }

  private get prefix(): string {
    return `${this.options.location.prefix}${this.options.tp.topic}/${this.options.tp.partition}/`;
  }

  /** The next bundle's records (filtered by the resume point and untilOffset), or undefined when the partition is done. */
  async next(): Promise<FetchedBundle | undefined> {
    try {
      return await retryTransient(`read the backup of ${this.options.tp.topic}/${this.options.tp.partition}`, () => this.nextInner());
    } catch (err) {
      if (err instanceof RetriableError) {
        // Start over from the last bundle handed out; nothing after it was returned.
        this.ahead.length = 0;
        this.listing = undefined;
        this.listedAll = false;
      }
      throw err;
    }
  }

  private async nextInner(): Promise<FetchedBundle | undefined> {
    if (this.resumePending) {
      const resumed = await this.reread(this.options.resume!);
      this.resumePending = false;
      if (resumed) return resumed;
    }
    for (;;) {
      await this.fill();
      const pending = this.ahead.shift();
      if (!pending) return undefined;
      const parsed = parseKafkaBundleKey(pending.key)!;
      let bundle: FetchedBundle;
      try {
        bundle = await pending.result;
      } catch (err) {
        if (!(err instanceof BadObjectError)) throw err;
        this.options.onBadObject(err);
        this.lastKey = pending.key;
        this.expectedStart = parsed.end + 1n;
        continue;
      }
      if (this.gap && bundle.start >= this.gap.from) this.gap = undefined;
      if (this.expectedStart !== undefined && bundle.start !== this.expectedStart) {
        this.options.onBadObject(
          new BadObjectError(
            'gap',
            bundle.key,
            `starts at offset ${bundle.start} but the previous bundle ended at ${this.expectedStart - 1n}: offsets ${this.expectedStart}..${bundle.start - 1n} are missing from the backup`,
          ),
        );
      }
      this.lastKey = pending.key;
      this.expectedStart = bundle.end + 1n;
      return this.limit(bundle);
    }
  }

  /**
   * Follow mode: whether to stop listing before a bundle that starts past `expected` (the
   * offset after the bundle before it), the gap being young enough to fill yet. Decided
   * from the key, before anything is fetched, so a held bundle costs one listing per
   * interval, and a bad bundle behind a gap cannot hide it.
   */
  private holdBefore(start: bigint, expected: bigint | undefined): boolean {
    const wait = this.options.gapWaitMs;
    if (wait === undefined || expected === undefined || start <= expected) return false;
    if (this.gap?.from !== expected) this.gap = { from: expected, to: start - 1n, since: Date.now() };
    return Date.now() - this.gap.since < wait;
  }

  /** Follow mode: the missing offsets a listed bundle waits behind, and since when. */
  get waitingForGap(): { from: bigint; to: bigint; since: number } | undefined {
    return this.gap;
  }

  /** The end offset of the newest bundle listed so far. */
  get newestListedEnd(): bigint | undefined {
    return this.listedEnd;
  }

  /** Follow mode, once next() has said the partition is done: the next call lists again after the last bundle handed out. */
  relist(): void {
    this.ahead.length = 0;
    this.listing = undefined;
    this.listedAll = false;
  }

  /** The bundle holding the resume point, if records after the resumed offset are left in it. */
  private async reread(resume: { key: string; offset: bigint }): Promise<FetchedBundle | undefined> {
    const parsed = parseKafkaBundleKey(resume.key);
    if (!parsed) return undefined;
    this.expectedStart = parsed.end + 1n;
    if (resume.offset >= parsed.end) return undefined;
    const bundle = await fetchBundle(this.options.store, this.options.location, { key: resume.key, ...parsed, sha256: this.checksums?.get(resume.key) }).catch(
      (err: unknown) => {
        if (err instanceof BadObjectError) {
          this.options.onBadObject(err);
          return undefined;
        }
        throw err;
      },
    );
    if (!bundle) return undefined;
    return this.limit({ ...bundle, records: bundle.records.filter((r) => r.offset > resume.offset) });
  }

  private limit(bundle: FetchedBundle): FetchedBundle {
    const { fromOffset: from, untilOffset: until } = this.options;
    if ((until === undefined || bundle.end <= until) && (from === undefined || bundle.start >= from)) return bundle;
    return { ...bundle, records: bundle.records.filter((r) => (until === undefined || r.offset <= until) && (from === undefined || r.offset >= from)) };
  }

  /** Keeps up to fetchAhead bundles fetching, in key order. */
  private async fill(): Promise<void> {
    const { store, location, tp, fromOffset, untilOffset } = this.options;
    this.listing ??= this.list()[Symbol.asyncIterator]();
    while (!this.listedAll && this.ahead.length < this.options.fetchAhead) {
      const item = await this.listing.next();
      if (item.done) {
        this.listedAll = true;
        break;
      }
      const key = item.value.key.slice(location.prefix.length);
      const parsed = parseKafkaBundleKey(key);
      if (!parsed || parsed.topic !== tp.topic || parsed.partition !== tp.partition) {
        // Following a live backup, a store may list an object still being written under a temporary name
        // (S3Proxy's filesystem store does): not a bundle, so nothing to restore; verify reports what stays.
        if (this.options.gapWaitMs !== undefined) continue;
        this.options.onBadObject(
          new BadObjectError('foreign', item.value.key, 'is not named like a bundle of this partition (<topic>/<partition>/<start>-<end>.avro.gz)'),
        );
        continue;
      }
      if (this.listedEnd === undefined || parsed.end > this.listedEnd) this.listedEnd = parsed.end;
      if (untilOffset !== undefined && parsed.start > untilOffset) {
        this.listedAll = true;
        break;
      }
      if (fromOffset !== undefined && parsed.end < fromOffset) continue;
      const expected = this.ahead.length > 0 ? this.listedNext : this.expectedStart;
      if (this.holdBefore(parsed.start, expected)) {
        this.listedAll = true;
        break;
      }
      this.listedNext = parsed.end + 1n;
      const result = fetchBundle(store, location, { key, ...parsed, sha256: this.checksums?.get(key) });
      result.catch(() => undefined); // handled when its turn comes
      this.ahead.push({ key, result });
    }
  }
}
