import { ColdstoreError, ErrorCodes } from '../../../runtime/api/index.js';
import type { DataKey } from './envelope.js';

/**
 * Where key-encryption keys live. A provider makes a fresh data key for each object it
 * encrypts (wrapped by its active key) and unwraps the data keys of objects it wrote,
 * with whichever of its keys wrapped them.
 */
export interface KeyProvider {
  /** The name recorded in each object's coldstore-enc-provider. */
  readonly name: string;
  /** The key new objects are encrypted with, for messages; undefined when this provider only decrypts. */
  readonly activeKeyId: string | undefined;
  newDataKey(): Promise<DataKey>;
  /** The plaintext data key. Throws KeyUnavailableError when the key is unknown, disabled or refused. */
  unwrap(keyId: string, wrapped: Buffer): Promise<Buffer>;
}

/**
 * A key the object needs is not there (not in the keyring, deleted, disabled or refused
 * by KMS), or did not unwrap the data key. Retrying does not help; the operator must
 * give coldstore the key. Names the key and, when known, the object.
 */
export class KeyUnavailableError extends ColdstoreError {
  constructor(
    readonly keyId: string,
    message: string,
    options?: { cause?: unknown },
    /** The key is there but refused this wrapped key as not its own: the object's metadata was altered. */
    readonly wrappedKeyRejected = false,
  ) {
    super(ErrorCodes.ENCRYPTION_KEY_UNAVAILABLE, message, options);
    this.name = 'KeyUnavailableError';
  }
}
