import { RetriableError } from '../../../runtime/api/index.js';

/**
 * The object store port. Connectors talk to S3 or the local filesystem only
 * through this interface; both implementations keep the same semantics.
 */
export type ObjectMetadata = Record<string, string>;

export interface ObjectInfo {
  key: string;
  size: number;
  /** When the object was written, in milliseconds since the epoch. */
  lastModified: number;
}

export interface StoredObject {
  size: number;
  metadata: ObjectMetadata;
}

export interface FetchedObject {
  body: Buffer;
  metadata: ObjectMetadata;
  /** The bytes stored, when they are not `body` (an encrypted object, whose body is given decrypted). */
  storedSize?: number;
}

/** How many bytes the object takes in the store: what listings and manifests state of it. */
export function storedBytes(object: FetchedObject): number {
  return object.storedSize ?? object.body.length;
}

/** What a create-if-absent found: it wrote the object, or one was already there. */
export type PutOutcome = { created: true } | { created: false; existing: StoredObject };

export interface PutOptions {
  /** Called once while a large upload is between its first and last part (crash tests use it). */
  onPartUploaded?: () => void;
}

export interface LifecycleRule {
  id: string;
  /** Key prefix the rule applies to; '' for the whole bucket. */
  prefix: string;
  expireAfterDays?: number;
  abortIncompleteMultipartAfterDays?: number;
}

export interface ObjectStore {
  /** Human-readable location for messages, e.g. `s3://bucket` endpoint or a directory. */
  readonly description: string;
  ensureBucket(bucket: string): Promise<void>;
  /**
   * Writes the object unless the key exists. Uses the store's conditional create
   * where it has one, so two writers cannot both believe they created it.
   */
  putIfAbsent(bucket: string, key: string, body: Buffer, metadata: ObjectMetadata, options?: PutOptions): Promise<PutOutcome>;
  /** Writes the object, replacing what is there (small descriptive objects, never bundles). */
  put(bucket: string, key: string, body: Buffer, metadata: ObjectMetadata): Promise<void>;
  head(bucket: string, key: string): Promise<StoredObject | undefined>;
  /** The object's bytes and metadata; undefined when it does not exist. */
  get(bucket: string, key: string): Promise<FetchedObject | undefined>;
  /** Keys under `prefix` in lexical order, strictly after `startAfter` when given. */
  list(bucket: string, prefix: string, startAfter?: string): AsyncIterable<ObjectInfo>;
  /** The names of the "directories" right under `prefix` (the next key segment before a `/`), sorted. */
  listDirectories(bucket: string, prefix: string): Promise<string[]>;
  /** Removes the object (nothing happens if it is not there). */
  delete(bucket: string, key: string): Promise<void>;
  /**
   * Readiness (GET /ready): resolves when the store answers for `bucket` (a missing bucket
   * counts, the connector creates it); rejects with what is wrong (unreachable, refused
   * credentials, 5xx). Gives up when `signal` aborts.
   */
  probe(bucket: string, signal: AbortSignal): Promise<void>;
  /** Replaces the bucket's lifecycle rules; `supported: false` when the store has no lifecycle support. */
  setLifecycle(bucket: string, rules: LifecycleRule[]): Promise<{ supported: boolean }>;
}

/** A store error that should succeed when retried later (network, throttling, 5xx). */
export class TransientStoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientStoreError';
  }
}

/** Runs store work; a transient store error becomes a RetriableError, so the runtime backs off and tries the task again. */
export async function retryTransient<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof TransientStoreError) throw new RetriableError(`could not ${what}: ${err.message}`, { cause: err });
    throw err;
  }
}
