import { ColdstoreError, ErrorCodes } from '../../../runtime/api/index.js';
import type {
  FetchedObject,
  LifecycleRule,
  ObjectInfo,
  ObjectMetadata,
  ObjectStore,
  PutOptions,
  PutOutcome,
  StoredObject,
} from '../object-store/object-store.js';
import { TransientStoreError } from '../object-store/object-store.js';
import { AuthenticationFailed, DATA_KEY_BYTES, envelopeKeyOf, EnvelopeFormatError, openBody, revealMetadata, seal, type EnvelopeKey } from './envelope.js';
import { KeyUnavailableError, type KeyProvider } from './key-provider.js';
import { KMS_PROVIDER } from './kms-provider.js';

/** Why an encrypted object cannot be read: its key is not available, or it (or its metadata) is not what was written. */
export type UndecryptableKind = 'key-unavailable' | 'not-authentic';

/** An object that cannot be decrypted; the message names the object and the key it needs. */
export class UndecryptableObject extends ColdstoreError {
  override readonly name = 'UndecryptableObject';
  constructor(
    readonly kind: UndecryptableKind,
    readonly keyId: string,
    object: string,
    /** What is wrong, without the object's name. */
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(kind === 'key-unavailable' ? ErrorCodes.ENCRYPTION_KEY_UNAVAILABLE : ErrorCodes.BACKUP_OBJECT_INVALID, `${object} ${detail}`, options);
  }
}

/** What reads accept besides what decrypts: no plaintext objects, only objects of these KMS keys (ARNs). */
export interface ReadPolicy {
  requireEncrypted?: boolean;
  allowedKmsKeys?: ReadonlySet<string>;
}

/** The keys a store's reads needed so far: `<provider>:<key id>` with how many objects each opened, and the plaintext objects read. */
export interface KeyUsage {
  keys: Map<string, number>;
  unencryptedObjects: number;
}

const CACHED_DATA_KEYS = 1024;

/**
 * Envelope encryption around any object store (docs/formats.md, "Encrypted objects"):
 * writes are encrypted with a fresh data key from `writer` (unless there is none: then
 * they stay plaintext), reads of encrypted objects are decrypted with the provider their
 * metadata names, and plaintext objects (written before encryption was turned on) read
 * as they are. Sizes (list, head) are the stored sizes; `get` reports it beside the body.
 */
export class EncryptingStore implements ObjectStore {
  readonly usage: KeyUsage = { keys: new Map(), unencryptedObjects: 0 };
  /** Unwrapped data keys by wrapped key: a head and then a get of one object cost one unwrap (one KMS call). */
  private readonly dataKeys = new Map<string, Buffer>();

  constructor(
    private readonly inner: ObjectStore,
    private readonly writer: KeyProvider | undefined,
    private readonly readers: ReadonlyMap<string, KeyProvider>,
    private readonly policy: ReadPolicy = {},
  ) {}

  get description(): string {
    return this.inner.description;
  }

  ensureBucket(bucket: string): Promise<void> {
    return this.inner.ensureBucket(bucket);
  }

  async putIfAbsent(bucket: string, key: string, body: Buffer, metadata: ObjectMetadata, options?: PutOptions): Promise<PutOutcome> {
    const stored = await this.sealed(body, metadata);
    const outcome = await this.inner.putIfAbsent(bucket, key, stored.body, stored.metadata, options);
    if (outcome.created) return outcome;
    // The writer compares the existing object's plaintext digest with its own (a rebuild after a crash): it is sealed.
    return { created: false, existing: { size: outcome.existing.size, metadata: await this.revealed(bucket, key, outcome.existing.metadata) } };
  }

  async put(bucket: string, key: string, body: Buffer, metadata: ObjectMetadata): Promise<void> {
    const stored = await this.sealed(body, metadata);
    await this.inner.put(bucket, key, stored.body, stored.metadata);
  }

  async head(bucket: string, key: string): Promise<StoredObject | undefined> {
    const object = await this.inner.head(bucket, key);
    return object && { size: object.size, metadata: await this.revealed(bucket, key, object.metadata) };
  }

  async get(bucket: string, key: string): Promise<FetchedObject | undefined> {
    const object = await this.inner.get(bucket, key);
    if (!object) return undefined;
    const envelope = this.envelopeOf(bucket, key, object.metadata);
    if (!envelope) {
      this.refusePlaintext(bucket, key);
      this.usage.unencryptedObjects++;
      return object;
    }
    const dataKey = await this.unwrap(bucket, key, envelope);
    const metadata = this.opening(bucket, key, envelope, () => revealMetadata(object.metadata, dataKey));
    const body = this.opening(bucket, key, envelope, () => openBody(object.body, object.metadata, dataKey));
    const used = `${envelope.provider}:${envelope.keyId}`;
    this.usage.keys.set(used, (this.usage.keys.get(used) ?? 0) + 1);
    return { body, metadata, storedSize: object.body.length };
  }

  list(bucket: string, prefix: string, startAfter?: string): AsyncIterable<ObjectInfo> {
    return this.inner.list(bucket, prefix, startAfter);
  }

  listDirectories(bucket: string, prefix: string): Promise<string[]> {
    return this.inner.listDirectories(bucket, prefix);
  }

  delete(bucket: string, key: string): Promise<void> {
    return this.inner.delete(bucket, key);
  }

  probe(bucket: string, signal: AbortSignal): Promise<void> {
    return this.inner.probe(bucket, signal);
  }

  setLifecycle(bucket: string, rules: LifecycleRule[]): Promise<{ supported: boolean }> {
    return this.inner.setLifecycle(bucket, rules);
  }

  private async sealed(body: Buffer, metadata: ObjectMetadata): Promise<{ body: Buffer; metadata: ObjectMetadata }> {
    if (!this.writer) return { body, metadata };
    const key = await this.writer.newDataKey();
    try {
      return seal(body, metadata, key);
    } finally {
      key.plaintext.fill(0);
    }
  }

  private async revealed(bucket: string, key: string, metadata: ObjectMetadata): Promise<ObjectMetadata> {
    const envelope = this.envelopeOf(bucket, key, metadata);
    if (!envelope) {
      this.refusePlaintext(bucket, key);
      return metadata;
    }
    const dataKey = await this.unwrap(bucket, key, envelope);
    return this.opening(bucket, key, envelope, () => revealMetadata(metadata, dataKey));
  }

  private envelopeOf(bucket: string, key: string, metadata: ObjectMetadata): EnvelopeKey | undefined {
    try {
      return envelopeKeyOf(metadata);
    } catch (err) {
      if (!(err instanceof EnvelopeFormatError)) throw err;
      throw new UndecryptableObject('not-authentic', '', `${bucket}/${key}`, err.message, { cause: err });
    }
  }

  /** encryption.require: an object without an envelope may have been planted by whoever can write the bucket. */
  private refusePlaintext(bucket: string, key: string): void {
    if (!this.policy.requireEncrypted) return;
    throw new UndecryptableObject(
      'not-authentic',
      '',
      `${bucket}/${key}`,
      'is not encrypted, and encryption.require=true: whoever can write the bucket may have put it there. Remove it, or set encryption.require=false if it was written before encryption was turned on.',
    );
  }

  private async unwrap(bucket: string, key: string, envelope: EnvelopeKey): Promise<Buffer> {
    const allowed = this.policy.allowedKmsKeys;
    if (envelope.provider === KMS_PROVIDER && allowed && allowed.size > 0 && !allowed.has(envelope.keyId)) {
      // A KMS key of someone else's that lets us Decrypt would otherwise vouch for objects they wrote.
      throw new UndecryptableObject(
        'not-authentic',
        envelope.keyId,
        `${bucket}/${key}`,
        `was encrypted with KMS key ${envelope.keyId}, which is not in encryption.kms.allowed.keys; add it there if it is one of yours`,
      );
    }
    const cacheKey = `${envelope.provider}\n${envelope.keyId}\n${envelope.wrapped.toString('base64')}`;
    const cached = this.dataKeys.get(cacheKey);
    if (cached) return cached;
    const provider = this.readers.get(envelope.provider);
    if (!provider) {
      const detail =
        envelope.provider === 'keyring'
          ? `is encrypted with keyring key ${envelope.keyId}; set encryption.keyring.file to a keyring holding it to read it`
          : `names key provider "${envelope.provider}", which this version does not know (it reads keyring and aws-kms)`;
      throw new UndecryptableObject(envelope.provider === 'keyring' ? 'key-unavailable' : 'not-authentic', envelope.keyId, `${bucket}/${key}`, detail);
    }
    let dataKey: Buffer;
    try {
      dataKey = await provider.unwrap(envelope.keyId, envelope.wrapped);
    } catch (err) {
      if (err instanceof TransientStoreError) throw err;
      // The key is there but refuses this wrapped key (KMS: not its ciphertext), or the wrapped key is malformed: altered metadata.
      const kind = err instanceof KeyUnavailableError && !err.wrappedKeyRejected ? 'key-unavailable' : 'not-authentic';
      throw new UndecryptableObject(kind, envelope.keyId, `${bucket}/${key}`, (err as Error).message, { cause: err });
    }
    if (dataKey.length !== DATA_KEY_BYTES) {
      throw new UndecryptableObject('not-authentic', envelope.keyId, `${bucket}/${key}`, `has a ${dataKey.length}-byte data key, not ${DATA_KEY_BYTES}`);
    }
    if (this.dataKeys.size >= CACHED_DATA_KEYS) this.dataKeys.delete(this.dataKeys.keys().next().value!);
    this.dataKeys.set(cacheKey, dataKey);
    return dataKey;
  }

  private opening<T>(bucket: string, key: string, envelope: EnvelopeKey, open: () => T): T {
    try {
      return open();
    } catch (err) {
      if (!(err instanceof AuthenticationFailed) && !(err instanceof EnvelopeFormatError)) throw err;
      throw new UndecryptableObject(
        'not-authentic',
        envelope.keyId,
        `${bucket}/${key}`,
        `${err.message}: the object or its metadata was altered after it was written, or ${envelope.provider} key ${envelope.keyId} is not the key it was written with`,
        { cause: err },
      );
    }
  }
}
