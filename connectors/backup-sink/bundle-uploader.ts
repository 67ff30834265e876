import { Backoff, ColdstoreError, ErrorCodes, gzipCodec, retry, type GzipCodec } from '../../runtime/api/index.js';
import { failpoint, type TaskLogger, type TaskMetrics } from '../../runtime/api/index.js';
import { sealKafkaBundle } from '../layouts/kafka-v1/bundle-codec.js';
import type { OpenKafkaBundle } from '../layouts/kafka-v1/open-bundle.js';
import { kafkaBundleKey } from '../layouts/kafka-v1/bundle-keys.js';
import { TransientStoreError, type ObjectMetadata, type ObjectStore } from '../common/object-store/object-store.js';
import { BackupLocation, type Location } from '../common/backup-location.js';
import { backupMetrics } from './metrics.js';
import type { SealedBundle } from './partition-writer.js';
import { MetadataName } from '../layouts/metadata-names.js';

const UNRETRIED_CODES = new Set<string>([ErrorCodes.STORE_UNSUPPORTED, ErrorCodes.ENCRYPTION_KEY_UNAVAILABLE]);

export interface UploaderOptions {
  store: ObjectStore;
  location: Location;
  gzipLevel: number;
  permanentErrorRetries: number;
  log: TaskLogger;
  metrics: TaskMetrics;
  /** True once the task stops: retries end, the claims stay for a rebuild. */
  stopped: () => boolean;
  /** The process's codec unless given (tests choose zlib or native). */
  codec?: GzipCodec;
}

/** An upload that retrying cannot fix (a conflicting object, access denied): the task fails with STORE_IO. */
export class PermanentUploadError extends ColdstoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.STORE_IO, message, options);
    this.name = 'PermanentUploadError';
  }
}

/**
 * Makes one sealed bundle durable: encode (deterministic bytes), gzip the whole
 * bundle in one call on libuv's threadpool, create-if-absent in the store. An
 * existing object with the same content counts as success (a rebuild after a
 * crash); different content is a conflict. Transient store errors are retried
 * until the store is back; others a few times, then the task fails.
 */
export class BundleUploader {
  private bucketReady: Promise<void> | undefined;

  constructor(private readonly options: UploaderOptions) {}

  get store(): ObjectStore {
    return this.options.store;
  }

  get location(): BackupLocation {
    return BackupLocation.of(this.options.location);
  }

  keyOf(bundle: Pick<SealedBundle, 'topic' | 'partition' | 'start' | 'end'>): string {
    return this.location.key(kafkaBundleKey(bundle.topic, bundle.partition, bundle.start, bundle.end));
  }

  /**
   * Resolves when the bundle is durable; rejects with PermanentUploadError, or once
   * `abandoned` says the partition was given up (its intent stays for the next owner).
   */
  async upload(bundle: SealedBundle<OpenKafkaBundle>, abandoned: () => boolean = () => false): Promise<'created' | 'existing'> {
    const started = performance.now();
    const key = this.keyOf(bundle);
    const { container, body, metadata } = await sealKafkaBundle(bundle.body, key, bundle.start, bundle.end, (raw) => this.gzip(raw));
    const outcome = (await this.storeChecked(key, body, metadata, abandoned)) as 'created' | 'existing';
    failpoint('backup.after-upload');
    this.countBundle(bundle, { records: bundle.records, rawBytes: container.length, compressedBytes: body.length, outcome, started });
    return outcome;
  }

  /**
   * gzip of a whole body in one call on libuv's threadpool, at the configured level. A
   * rebuild after a crash may compress with another library than the first upload did:
   * storeChecked compares the uncompressed body's sha256, so that is still 'existing'.
   */
  gzip(body: Buffer): Promise<Buffer> {
    return this.codec.gzip(body, this.options.gzipLevel, this.options.log);
  }

  private get codec(): GzipCodec {
    return this.options.codec ?? gzipCodec();
  }

  /**
   * Creates the object unless it exists. An existing object with the same
   * body sha256 (metadata) is success (a rebuild after a crash); a different one is
   * a conflict: PermanentUploadError, or `'conflict'` when the caller asks to decide.
   */
  async storeChecked(
    key: string,
    body: Buffer,
    metadata: ObjectMetadata,
    abandoned: () => boolean,
    onConflict: 'throw' | 'report' = 'throw',
  ): Promise<'created' | 'existing' | 'conflict'> {
    const { store, location } = this.options;
    return this.withRetries(
      `upload ${location.bucket}/${key}`,
      async () => {
        await this.ensureBucket();
        const put = await store.putIfAbsent(location.bucket, key, body, metadata, { onPartUploaded: () => failpoint('backup.mid-multipart') });
        if (put.created) return 'created' as const;
        const theirs = put.existing.metadata[MetadataName.bodySha256];
        if (theirs === metadata[MetadataName.bodySha256]) return 'existing' as const;
        if (onConflict === 'report') return 'conflict' as const;
        if (Object.keys(put.existing.metadata).length === 0) {
          throw new PermanentUploadError(
            `Conflict: ${location.bucket}/${key} exists without metadata: a writer was killed between writing the object and its metadata ` +
              "(the local store writes them one after the other; an encrypted object cannot be completed by another writer), or it is not coldstore's. " +
              'No offset was committed past it: delete that one object and restart the task.',
          );
        }
        throw new PermanentUploadError(
          `Conflict: ${location.bucket}/${key} already exists with different content (sha256 ${theirs ?? 'none'}, ours ${metadata[MetadataName.bodySha256]}). ` +
            'Another writer uses the same bucket and label, or the bucket holds foreign objects; use a new backup.label.',
        );
      },
      abandoned,
    );
  }

  /** Counts a durable bundle in the metrics. */
  countBundle(
    bundle: Pick<SealedBundle, 'topic'>,
    figures: { records: number; rawBytes: number; compressedBytes: number; outcome: string; started: number },
  ): void {
    const { metrics } = this.options;
    const attributes = { topic: bundle.topic };
    metrics.add(backupMetrics.records, figures.records, attributes);
    metrics.add(backupMetrics.rawBytes, figures.rawBytes, attributes);
    metrics.add(backupMetrics.compressedBytes, figures.compressedBytes, attributes);
    metrics.add(backupMetrics.bundles, 1, { ...attributes, result: figures.outcome, compressor: this.codec.compressorName(this.options.gzipLevel) });
    metrics.record(backupMetrics.uploadSeconds, (performance.now() - figures.started) / 1000, attributes);
  }

  private ensureBucket(): Promise<void> {
    this.bucketReady ??= this.options.store.ensureBucket(this.options.location.bucket).catch((err: unknown) => {
      this.bucketReady = undefined;
      throw err;
    });
    return this.bucketReady;
  }

  /** Retries `work`: transient errors until abandoned or stopped, permanent ones up to the configured count. */
  withRetries<T>(what: string, work: () => Promise<T>, abandoned: () => boolean = () => false): Promise<T> {
    const { metrics, log, permanentErrorRetries, stopped } = this.options;
    let permanentFailures = 0;
    return retry(work, {
      delays: new Backoff(500, 30_000, 0),
      retryable: (err) => {
        // A server without the operation (501) will not grow it on a retry, nor will a missing or refused encryption key come back.
        if (err instanceof PermanentUploadError || (err instanceof ColdstoreError && UNRETRIED_CODES.has(err.code))) return false;
        const transient = err instanceof TransientStoreError;
        metrics.add(backupMetrics.errors, 1, { kind: transient ? 'transient' : 'permanent' });
        if (!transient && ++permanentFailures > permanentErrorRetries) {
          throw new PermanentUploadError(`${what} failed ${permanentFailures} times: ${(err as Error).message}`, { cause: err });
        }
        return true;
      },
      givenUp: () => abandoned() || stopped(),
      onRetry: (err, attempt, retryInMs) => log.warn({ reason: (err as Error).message, attempt, retryInMs }, `${what} failed; retrying`),
    });
  }
}
