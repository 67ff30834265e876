import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketLifecycleConfigurationCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  type ListObjectsV2CommandInput,
  type ListObjectsV2CommandOutput,
  type PutObjectCommandInput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ColdstoreError, ErrorCodes } from '../../../runtime/api/index.js';
import {
  TransientStoreError,
  type LifecycleRule,
  type ObjectInfo,
  type ObjectMetadata,
  type ObjectStore,
  type PutOptions,
  type PutOutcome,
  type FetchedObject,
  type StoredObject,
} from './object-store.js';
import { withPayloadHash } from './payload-hash.js';
import { httpsAgentTrusting, untrustedCertificate } from './s3-tls.js';

export interface S3StoreOptions {
  endpoint?: string;
  region: string;
  pathStyle: boolean;
  /** PEM CA certificates trusted for an HTTPS endpoint besides the system ones (a private CA). */
  caFile?: string;
  /** Static credentials; omitted: the AWS default credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** `aws:kms` or `AES256`; omitted: the bucket's default. */
  sse?: 'AES256' | 'aws:kms';
  sseKmsKeyId?: string;
  /** `when_required` for stores that reject the SDK's default CRC checksums. */
  checksums: 'when_supported' | 'when_required';
  /** Bodies at least this large go up as multipart uploads. */
  multipartThresholdBytes: number;
  partSizeBytes: number;
  /** Until a response's headers (the upload of a request body included), and without a byte while a body streams; tests shorten them. */
  timeoutsMs?: { request: number; idle: number };
}

function statusOf(err: unknown): number | undefined {
  return (err as S3ServiceException)?.$metadata?.httpStatusCode;
}

function nameOf(err: unknown): string {
  return (err as Error)?.name ?? '';
}

/** What coldstore needs each S3 operation for, by the first word of the `doing` text: said when a server does not implement it. */
const NEEDED_FOR: Record<string, string> = {
  'conditional-PUT': 'creating bundles and claims only if absent (PUT with If-None-Match: *), so two writers never both believe they wrote an object',
  multipart: 'objects of s3.multipart.threshold.bytes or more (multipart upload)',
  PUT: 'writing objects',
  HEAD: 'checking objects and buckets',
  GET: 'reading objects',
  LIST: 'listing bundles and backups (ListObjectsV2)',
  DELETE: 'removing expired bundles and claims',
  create: 'creating the bucket when it is missing',
};

/**
 * 501 NotImplemented: the server lacks the operation, and no retry will change that, so
 * the task fails with a message saying what to do instead of retrying forever.
 */
function notImplemented(err: unknown, doing: string): ColdstoreError {
  const operation = doing.split(' ')[0] ?? doing;
  const why = NEEDED_FOR[operation] ?? 'its work';
  return new ColdstoreError(
    ErrorCodes.STORE_UNSUPPORTED,
    `The S3-compatible server does not implement S3 ${doing} (HTTP 501 ${nameOf(err) || 'NotImplemented'}: ${(err as Error)?.message ?? String(err)}). ` +
      `coldstore needs it for ${why}. Use a server that implements it (AWS S3, MinIO and S3Proxy do), or upgrade this one; then restart the task.`,
    { cause: err },
  );
}

/** Network trouble, throttling and 5xx are worth retrying; 501 (not implemented) and 4xx (auth, bad request) are not. */
function classify(err: unknown, doing: string, endpoint: string | undefined): Error {
  const status = statusOf(err);
  if (status === 501 || nameOf(err) === 'NotImplemented') return notImplemented(err, doing);
  const tls = untrustedCertificate(err, endpoint);
  if (tls) return new ColdstoreError(ErrorCodes.STORE_IO, `S3 ${doing} failed: ${tls}.`, { cause: err });
  const message = `S3 ${doing} failed: ${(err as Error)?.message ?? String(err)}${status ? ` (HTTP ${status})` : ''}`;
  if (status === undefined || status >= 500 || status === 429 || nameOf(err) === 'SlowDown' || nameOf(err) === 'RequestTimeout') {
    return new TransientStoreError(`${message}; retrying`, { cause: err });
  }
  return new Error(`${message}. Check the bucket name, credentials and permissions.`, { cause: err });
}

/** The object store on S3 or an S3-compatible server, with AWS SDK v3. */
export class S3ObjectStore implements ObjectStore {
  readonly description: string;
  private readonly client: S3Client;

  constructor(private readonly options: S3StoreOptions) {
    this.description = `S3 ${options.endpoint ?? `region ${options.region}`}`;
    this.client = new S3Client({
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      forcePathStyle: options.pathStyle,
      ...(options.credentials ? { credentials: options.credentials } : {}),
      requestChecksumCalculation: options.checksums === 'when_required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED',
      responseChecksumValidation: options.checksums === 'when_required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED',
      maxAttempts: 3,
      // A hung connection must fail (and be retried) rather than block a task forever; without
      // throwOnRequestTimeout the SDK only logs a warning when requestTimeout passes and keeps waiting.
      requestHandler: {
        connectionTimeout: 5_000,
        requestTimeout: options.timeoutsMs?.request ?? 120_000,
        throwOnRequestTimeout: true,
        socketTimeout: options.timeoutsMs?.idle ?? 60_000,
        ...(options.caFile ? { httpsAgent: httpsAgentTrusting(options.caFile) } : {}),
      },
    });
  }

  private async call<T>(doing: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw classify(err, doing, this.options.endpoint);
    }
  }

  async ensureBucket(bucket: string): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: bucket }));
      return;
    } catch (err) {
      if (statusOf(err) !== 404 && nameOf(err) !== 'NotFound' && nameOf(err) !== 'NoSuchBucket')
        throw classify(err, `HEAD bucket ${bucket}`, this.options.endpoint);
    }
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: bucket }));
    } catch (err) {
      if (nameOf(err) === 'BucketAlreadyOwnedByYou' || nameOf(err) === 'BucketAlreadyExists') return;
      throw classify(err, `create bucket ${bucket}`, this.options.endpoint);
    }
  }

  private encryption(): Partial<PutObjectCommandInput> {
    if (!this.options.sse) return {};
    return { ServerSideEncryption: this.options.sse, ...(this.options.sseKmsKeyId ? { SSEKMSKeyId: this.options.sseKmsKeyId } : {}) };
  }

  async putIfAbsent(bucket: string, key: string, body: Buffer, metadata: ObjectMetadata, options: PutOptions = {}): Promise<PutOutcome> {
    const params: PutObjectCommandInput = { Bucket: bucket, Key: key, Body: body, Metadata: metadata, ...this.encryption() };
    if (body.length < this.options.multipartThresholdBytes) {
      try {
        await this.client.send(await withPayloadHash(new PutObjectCommand({ ...params, IfNoneMatch: '*' }), body));
        return { created: true };
      } catch (err) {
        if (statusOf(err) !== 412 && nameOf(err) !== 'PreconditionFailed') throw classify(err, `conditional-PUT ${bucket}/${key}`, this.options.endpoint);
      }
      return { created: false, existing: await this.mustHead(bucket, key) };
    }
    // Multipart: not every store honours a condition on completion, so look first.
    // A racing writer can only write the same bytes (bundles are deterministic).
    const existing = await this.head(bucket, key);
    if (existing) return { created: false, existing };
    const upload = new Upload({ client: this.client, params, partSize: this.options.partSizeBytes, queueSize: 4, leavePartsOnError: false });
    let reported = false;
    upload.on('httpUploadProgress', (progress) => {
      if (!reported && progress.loaded !== undefined && progress.loaded < body.length) {
        reported = true;
        options.onPartUploaded?.();
      }
    });
    await this.call(`multipart upload ${bucket}/${key}`, () => upload.done());
    return { created: true };
  }

  private async mustHead(bucket: string, key: string): Promise<StoredObject> {
    const found = await this.head(bucket, key);
    if (!found) throw new TransientStoreError(`S3 said ${bucket}/${key} exists but HEAD finds nothing; retrying`);
    return found;
  }

  async head(bucket: string, key: string): Promise<StoredObject | undefined> {
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { size: res.ContentLength ?? 0, metadata: res.Metadata ?? {} };
    } catch (err) {
      if (statusOf(err) === 404 || nameOf(err) === 'NotFound') return undefined;
      throw classify(err, `HEAD ${bucket}/${key}`, this.options.endpoint);
    }
  }

  async put(bucket: string, key: string, body: Buffer, metadata: ObjectMetadata): Promise<void> {
    await this.call(`PUT ${bucket}/${key}`, () =>
      this.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, Metadata: metadata, ...this.encryption() })),
    );
  }

  async get(bucket: string, key: string): Promise<FetchedObject | undefined> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return { body: Buffer.from(await res.Body!.transformToByteArray()), metadata: res.Metadata ?? {} };
    } catch (err) {
      if (statusOf(err) === 404 || nameOf(err) === 'NoSuchKey') return undefined;
      throw classify(err, `GET ${bucket}/${key}`, this.options.endpoint);
    }
  }

  /** One listing page; a bucket that does not exist holds nothing (as a missing directory in the local store). */
  private async listPage(input: ListObjectsV2CommandInput): Promise<ListObjectsV2CommandOutput> {
    try {
      return await this.client.send(new ListObjectsV2Command(input));
    } catch (err) {
      if (nameOf(err) === 'NoSuchBucket') return { $metadata: {} };
      throw classify(err, `LIST ${input.Bucket}/${input.Prefix ?? ''}`, this.options.endpoint);
    }
  }

  async listDirectories(bucket: string, prefix: string): Promise<string[]> {
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.listPage({ Bucket: bucket, Prefix: prefix, Delimiter: '/', ...(token ? { ContinuationToken: token } : {}) });
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix) names.push(p.Prefix.slice(prefix.length, -1));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return names.sort();
  }

  async *list(bucket: string, prefix: string, startAfter?: string): AsyncIterable<ObjectInfo> {
    let token: string | undefined;
    do {
      const page = await this.listPage({
        Bucket: bucket,
        Prefix: prefix,
        ...(token ? { ContinuationToken: token } : startAfter ? { StartAfter: startAfter } : {}),
      });
      for (const item of page.Contents ?? []) if (item.Key) yield { key: item.Key, size: item.Size ?? 0, lastModified: item.LastModified?.getTime() ?? 0 };
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(bucket: string, key: string): Promise<void> {
    await this.call(`DELETE ${bucket}/${key}`, () => this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })));
  }

  async probe(bucket: string, signal: AbortSignal): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal: signal });
    } catch (err) {
      if (statusOf(err) === 404 || nameOf(err) === 'NotFound' || nameOf(err) === 'NoSuchBucket') return;
      const status = statusOf(err);
      // A HEAD answer has no body, so the SDK cannot name a 403 better than UnknownError.
      const reason = signal.aborted
        ? 'no answer in time'
        : (untrustedCertificate(err, this.options.endpoint) ??
          (status === 403
            ? 'access denied (HTTP 403): check s3.access.key.id, s3.secret.access.key and the bucket policy'
            : `${(err as Error)?.message || nameOf(err) || String(err)}${status ? ` (HTTP ${status})` : ''}`));
      throw new Error(`${this.description}, bucket ${bucket}: ${reason}`, { cause: err });
    }
  }

  async setLifecycle(bucket: string, rules: LifecycleRule[]): Promise<{ supported: boolean }> {
    try {
      await this.client.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: bucket,
          LifecycleConfiguration: {
            Rules: rules.map((r) => ({
              ID: r.id,
              Status: 'Enabled',
              Filter: { Prefix: r.prefix },
              ...(r.expireAfterDays ? { Expiration: { Days: r.expireAfterDays } } : {}),
              ...(r.abortIncompleteMultipartAfterDays ? { AbortIncompleteMultipartUpload: { DaysAfterInitiation: r.abortIncompleteMultipartAfterDays } } : {}),
            })),
          },
        }),
      );
      return { supported: true };
    } catch (err) {
      if (statusOf(err) === 501 || nameOf(err) === 'NotImplemented') return { supported: false };
      throw classify(err, `PUT lifecycle of ${bucket}`, this.options.endpoint);
    }
  }
}
