import { createHash } from 'node:crypto';
import { Backoff, ColdstoreError, ErrorCodes, retry, type TaskLogger, type TaskMetrics } from '../../../runtime/api/index.js';
import { Limiter } from '../../common/bounded.js';
import { DispatcherError, type Dispatcher } from '../../common/dispatcher/dispatcher.js';
import type { StreamRef } from '../../layouts/azul/event-fields.js';
import { azulStreamMetadata } from '../../layouts/azul/objects.js';
import { streamKey } from '../../layouts/azul/keys.js';
import type { BundleUploader } from '../bundle-uploader.js';
import { azulMetrics } from './metrics.js';
import { KeyCache } from './key-cache.js';
import type { StreamSpool } from './stream-spool.js';

/** What became of one stream. `spooled`: it failed and waits in the spool (in the object store) for a retry. */
export type StreamOutcome = 'stored' | 'existing' | 'missing' | 'mismatch' | 'spooled';

export interface ArchiverOptions {
  dispatcher: Dispatcher;
  /** Writes to the streams bucket (gzip level and location of streams). */
  uploader: BundleUploader;
  spool: StreamSpool;
  /** Streams the dispatcher answered 404, asked for again by retryMissing(). */
  missing: StreamSpool;
  cacheSize: number;
  maxInFlight: number;
  /** Declared bytes of the blobs in flight at once (a larger blob runs alone). */
  maxInFlightBytes: number;
  /** Consecutive failed streams after which the archiver gives up (the task fails, nothing lost). */
  maxConsecutiveFailures: number;
  /** Quick retries of one download before it counts as a failure. */
  attempts: number;
  retryDelayMs: number;
  log: TaskLogger;
  metrics: TaskMetrics;
  stopped: () => boolean;
}

/**
 * Copies the blobs events refer to from the dispatcher into the streams bucket,
 * each at most once: a bounded LRU of keys already handled, then an existence
 * check in the store, then download, sha256 check, gzip, create-if-absent. A
 * stream counts as handled once stored, found, missing (404) or mismatched
 * (reported, never stored); a failed one is spooled (a small entry in the streams
 * location) and retried by any task of the connector, so the events that refer to
 * it can be committed without losing it. A missing one gets an entry in the missing
 * list, so it is asked for again later (the dispatcher may receive it after its event).
 */
export class StreamArchiver {
  private readonly cache: KeyCache;
  private readonly limiter: Limiter;
  private readonly running = new Map<string, Promise<StreamOutcome>>();
  private consecutiveFailures = 0;
  private failure: ColdstoreError | undefined;
  /** Streams of the missing list this archiver stored once the dispatcher had them. */
  recovered = 0;

  constructor(private readonly options: ArchiverOptions) {
    this.cache = new KeyCache(options.cacheSize);
    this.limiter = new Limiter(options.maxInFlight, options.maxInFlightBytes);
  }

  /** Set once the dispatcher failed maxConsecutiveFailures times in a row; the task must stop taking events. */
  get failed(): ColdstoreError | undefined {
    return this.failure;
  }

  /** Entries of the connector's missing list (one listing). */
  countMissing(): Promise<number> {
    return this.options.missing.count();
  }

  /** Entries of the connector's spool (one listing). */
  countSpooled(): Promise<number> {
    return this.options.spool.count();
  }

  /** Resolves when every stream is handled or spooled; rejects if a failure cannot be spooled (the store refuses the entry). */
  async archive(refs: readonly StreamRef[]): Promise<StreamOutcome[]> {
    return Promise.all(refs.map((ref) => this.archiveOne(ref)));
  }

  private archiveOne(ref: StreamRef): Promise<StreamOutcome> {
    const key = streamKey(ref);
    if (this.cache.has(key)) return Promise.resolve('existing');
    let work = this.running.get(key);
    if (!work) {
      work = this.limiter.run(() => this.copy(ref), ref.size).finally(() => this.running.delete(key));
      this.running.set(key, work);
    }
    return work;
  }

  /** `from`: a range's event, the spool, or the missing list (whose 404s and failures leave the entry as it is). */
  private async copy(ref: StreamRef, from: 'range' | 'spool' | 'missing' = 'range'): Promise<StreamOutcome> {
    const fromSpool = from === 'spool';
    const key = streamKey(ref);
    const { uploader, metrics } = this.options;
    const attributes = { source: ref.source };
    const location = uploader.location;
    const present = await uploader.withRetries(`check ${location.bucket}/${key}`, () => uploader.store.head(location.bucket, `${location.prefix}${key}`));
    if (present) {
      if (from === 'missing') await this.options.missing.remove(ref);
      return this.handled(ref, 'existing', fromSpool);
    }
    if (this.failure) return from === 'missing' ? 'missing' : this.spool(ref, this.failure.message);
    let bytes: Buffer | undefined;
    try {
      bytes = await this.download(ref);
    } catch (err) {
      if (from !== 'missing') return this.failedDownload(ref, err as Error);
      this.options.log.info({ stream: key, reason: (err as Error).message }, 'asking again for a missing stream failed; it stays in the missing list');
      return 'missing';
    }
    this.consecutiveFailures = 0;
    if (bytes === undefined) {
      if (from === 'missing') return 'missing';
      await this.remember(ref);
      this.options.log.warn(
        { stream: key, missingList: this.options.missing.description },
        'the dispatcher does not have this stream (404): counted as missing and kept in the missing list, to be asked for again every streams.missing.retry.ms',
      );
      return this.handled(ref, 'missing', fromSpool);
    }
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== ref.sha256) {
      this.options.log.error({ stream: key, sha256: actual }, "the dispatcher served bytes whose sha256 does not match the stream's; not stored");
      if (from === 'missing') await this.options.missing.remove(ref);
      return this.handled(ref, 'mismatch', fromSpool);
    }
    const body = await uploader.gzip(bytes);
    await uploader.storeChecked(`${location.prefix}${key}`, body, azulStreamMetadata(ref.sha256, bytes.length), () => false);
    metrics.add(azulMetrics.streamBytes, bytes.length, attributes);
    if (from === 'missing') {
      // Counted before the entry goes, so a status never shows it neither listed nor stored.
      this.recovered++;
      await this.options.missing.remove(ref);
      this.options.log.info({ stream: key }, 'a missing stream is stored: the dispatcher has it now');
    }
    return this.handled(ref, 'stored', fromSpool);
  }

  /** Durably lists a 404'd stream; throws if the store refuses, so its events are not committed. */
  private async remember(ref: StreamRef): Promise<void> {
    try {
      await this.options.missing.add(ref, 'the dispatcher answered 404');
    } catch (err) {
      throw new ColdstoreError(
        ErrorCodes.STORE_IO,
        `Stream ${streamKey(ref)} is missing at the dispatcher (404) and cannot be listed in ${this.options.missing.description}: ${(err as Error).message}. ` +
          'Let coldstore write there (permissions, bucket policy, space); the events that refer to it are not committed.',
        { cause: err },
      );
    }
  }

  private download(ref: StreamRef): Promise<Buffer | undefined> {
    return retry(() => this.options.dispatcher.getStream(ref), {
      delays: new Backoff(this.options.retryDelayMs, Infinity, 0),
      retryable: (err, failures) => err instanceof DispatcherError && err.transient && failures < this.options.attempts,
      givenUp: this.options.stopped,
    });
  }

  private async failedDownload(ref: StreamRef, err: Error): Promise<StreamOutcome> {
    const key = streamKey(ref);
    this.consecutiveFailures++;
    this.options.log.warn(
      { stream: key, reason: err.message, consecutiveFailures: this.consecutiveFailures },
      'stream download failed; spooling it for a retry',
    );
    if (this.consecutiveFailures >= this.options.maxConsecutiveFailures && !this.failure) {
      this.failure = new ColdstoreError(
        ErrorCodes.DISPATCHER_FAILED,
        `${this.consecutiveFailures} stream downloads in a row failed from ${this.options.dispatcher.description} (last: ${key}: ${err.message}). ` +
          `The task stopped taking events; failed streams are spooled in ${this.options.spool.description} and nothing is lost. ` +
          'Restart the task once the dispatcher is reachable; the spool is retried first.',
        { cause: err },
      );
    }
    return this.spool(ref, err.message);
  }

  private async spool(ref: StreamRef, reason: string): Promise<StreamOutcome> {
    try {
      await this.options.spool.add(ref, reason);
    } catch (err) {
      throw new ColdstoreError(
        ErrorCodes.STORE_IO,
        `Stream ${streamKey(ref)} failed (${reason}) and cannot be spooled in ${this.options.spool.description}: ${(err as Error).message}. ` +
          'Let coldstore write there (permissions, bucket policy, space); the events that refer to it are not committed.',
        { cause: err },
      );
    }
    this.options.metrics.add(azulMetrics.streams, 1, { source: ref.source, result: 'failed' });
    return 'spooled';
  }

  private async handled(ref: StreamRef, outcome: Exclude<StreamOutcome, 'spooled'>, fromSpool: boolean): Promise<StreamOutcome> {
    if (outcome !== 'mismatch') this.cache.add(streamKey(ref));
    this.options.metrics.add(azulMetrics.streams, 1, { source: ref.source, result: outcome });
    if (fromSpool) await this.options.spool.remove(ref);
    return outcome;
  }

  /**
   * One pass over the spool: each entry is tried again and removed once handled.
   * Returns how many entries are left. Stops early once the archiver has failed.
   */
  async retrySpool(): Promise<number> {
    return this.retryList('spool', 'spooled');
  }

  /**
   * One pass over the missing list: each stream is asked for again, stored and removed
   * once the dispatcher has it. Returns how many are still missing.
   */
  async retryMissing(): Promise<number> {
    return this.retryList('missing', 'missing');
  }

  private async retryList(list: 'spool' | 'missing', stays: StreamOutcome): Promise<number> {
    let left = 0;
    for (const entry of await this.options[list].entries()) {
      if (this.failure || this.options.stopped()) return left + 1;
      const ref = { source: entry.source, label: entry.label, sha256: entry.sha256, size: entry.size };
      const key = streamKey(ref);
      if (this.running.has(key)) continue;
      // Registered like any copy, so a range wanting the same stream meanwhile waits for this one.
      const work = this.limiter.run(() => this.copy(ref, list), ref.size).finally(() => this.running.delete(key));
      this.running.set(key, work);
      if ((await work) === stays) left++;
    }
    return left;
  }
}
