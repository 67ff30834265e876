import { ColdstoreError, ErrorCodes } from '../../runtime/api/index.js';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { failpoint, type TaskLogger, type TaskMetrics } from '../../runtime/api/index.js';
import { encodeKafkaBundle, kafkaBundleKey } from '../shared/formats/kafka-v1.js';
import { TransientStoreError, type ObjectStore } from '../shared/object-store/object-store.js';
import type { Location } from '../shared/backup-location.js';
import { backupMetrics } from './metrics.js';
import type { SealedBundle } from './partition-writer.js';

const gzipAsync = promisify(gzip);

export interface UploaderOptions {
  store: ObjectStore;
  location: Location;
  gzipLevel: number;
  permanentErrorRetries: number;
  log: TaskLogger;
  metrics: TaskMetrics;
  /** True once the task stops: retries end, the intents stay for a rebuild. */
  stopped: () => boolean;
}

/** An upload that can never succeed as configured; the task fails with this. */
/** An upload that retrying cannot fix (a conflicting object, access denied): the task fails with STORE_IO. */
export class PermanentUploadError extends ColdstoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.STORE_IO, message, options);
    this.name = 'PermanentUploadError';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Makes one sealed bundle durable: encode (deterministic bytes), gzip the whole
 * bundle in one zlib call on libuv's threadpool, create-if-absent in the store. An
 * existing object with the same content counts as success (a rebuild after a
 * crash); different content is a conflict. Transient store errors are retried
 * until the store is back; others a few times, then the task fails.
 */
export class BundleUploader {
  private bucketReady: Promise<void> | undefined;

  constructor(private readonly options: UploaderOptions) {}

  keyOf(bundle: Pick<SealedBundle, 'topic' | 'partition' | 'start' | 'end'>): string {
    return `${this.options.location.prefix}${kafkaBundleKey(bundle.topic, bundle.partition, bundle.start, bundle.end)}`;
  }

  /**
   * Resolves when the bundle is durable; rejects with PermanentUploadError, or once
   * `abandoned` says the partition was given up (its intent stays for the next owner).
   */
  async upload(bundle: SealedBundle, abandoned: () => boolean = () => false): Promise<'created' | 'existing'> {
    const started = performance.now();
    const { store, location, metrics } = this.options;
    const key = this.keyOf(bundle);
    const { container, metadata } = encodeKafkaBundle(key, bundle.start, bundle.end, bundle.records);
    // One output buffer larger than the result makes the whole bundle one threadpool job
    // (the default 16 KiB chunks cost a job and a main-thread callback each); the bytes are the same.
    const body = await gzipAsync(container, { level: this.options.gzipLevel, chunkSize: container.length + (container.length >> 8) + 1024 });
    const outcome = await this.withRetries(`upload ${location.bucket}/${key}`, async () => {
      await this.ensureBucket();
      const put = await store.putIfAbsent(location.bucket, key, body, metadata, { onPartUploaded: () => failpoint('backup.mid-multipart') });
      if (put.created) return 'created' as const;
      const theirs = put.existing.metadata['coldstore-body-sha256'];
      if (theirs !== metadata['coldstore-body-sha256']) {
        throw new PermanentUploadError(
          `Conflict: ${location.bucket}/${key} already exists with different content (sha256 ${theirs ?? 'none'}, ours ${metadata['coldstore-body-sha256']}). ` +
            'Another writer uses the same bucket and label, or the bucket holds foreign objects; use a new backup.label.',
        );
      }
      return 'existing' as const;
    }, abandoned);
    failpoint('backup.after-upload');
    const attributes = { topic: bundle.topic };
    metrics.add(backupMetrics.records, bundle.records.length, attributes);
    metrics.add(backupMetrics.rawBytes, container.length, attributes);
    metrics.add(backupMetrics.compressedBytes, body.length, attributes);
    metrics.add(backupMetrics.bundles, 1, { ...attributes, result: outcome });
    metrics.record(backupMetrics.uploadSeconds, (performance.now() - started) / 1000, attributes);
    return outcome;
  }

  private ensureBucket(): Promise<void> {
    this.bucketReady ??= this.options.store.ensureBucket(this.options.location.bucket).catch((err: unknown) => {
      this.bucketReady = undefined;
      throw err;
    });
    return this.bucketReady;
  }

  /** Retries `work`: transient errors until abandoned or stopped, permanent ones up to the configured count. */
  async withRetries<T>(what: string, work: () => Promise<T>, abandoned: () => boolean = () => false): Promise<T> {
    const giveUp = () => abandoned() || this.options.stopped();
    let permanentFailures = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (err) {
        if (err instanceof PermanentUploadError) throw err;
        const transient = err instanceof TransientStoreError;
        this.options.metrics.add(backupMetrics.errors, 1, { kind: transient ? 'transient' : 'permanent' });
        if (!transient && ++permanentFailures > this.options.permanentErrorRetries) {
          throw new PermanentUploadError(`${what} failed ${permanentFailures} times: ${(err as Error).message}`, { cause: err });
        }
        if (giveUp()) throw err;
        const delay = Math.min(30_000, 250 * 2 ** Math.min(attempt, 8));
        this.options.log.warn({ reason: (err as Error).message, attempt, retryInMs: delay }, `${what} failed; retrying`);
        await sleep(delay);
        if (giveUp()) throw err;
      }
    }
  }
}
