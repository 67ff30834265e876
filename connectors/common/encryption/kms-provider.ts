import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { TransientStoreError } from '../object-store/object-store.js';
import type { DataKey } from './envelope.js';
import { KeyUnavailableError, type KeyProvider } from './key-provider.js';

export const KMS_PROVIDER = 'aws-kms';

/**
 * Bound to every data key KMS makes for coldstore; KMS refuses to unwrap with another
 * context, so a data key asked for elsewhere cannot be passed off as one of ours.
 */
const ENCRYPTION_CONTEXT = { coldstore: 'envelope-v1' };

export interface KmsSettings {
  /** Key id, ARN, alias name (alias/...) or alias ARN; undefined when KMS only decrypts. */
  keyId: string | undefined;
  region: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** KMS answers that no retry changes: the key is gone, disabled or refused to us, or there are no credentials. */
const PERMANENT = new Set([
  'NotFoundException',
  'DisabledException',
  'KMSInvalidStateException',
  'AccessDeniedException',
  'InvalidKeyUsageException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ValidationException',
  'CredentialsProviderError',
]);
/** KMS has the key but says the wrapped key is not its ciphertext (for this context): the object's metadata was altered. */
const NOT_ITS_CIPHERTEXT = new Set(['InvalidCiphertextException', 'IncorrectKeyException']);

/**
 * Data keys from AWS KMS (or a KMS-compatible server at `endpoint`): GenerateDataKey for
 * each new object, Decrypt to unwrap; credentials from the AWS default chain unless given.
 */
export class KmsProvider implements KeyProvider {
  readonly name = KMS_PROVIDER;
  readonly activeKeyId: string | undefined;
  private readonly client: KMSClient;

  constructor(private readonly settings: KmsSettings) {
    this.activeKeyId = settings.keyId;
    this.client = new KMSClient({
      region: settings.region,
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      ...(settings.credentials ? { credentials: settings.credentials } : {}),
      maxAttempts: 3,
      // KMS answers in milliseconds; a server that does not is retried by the caller like an unreachable S3.
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
    });
  }

  async newDataKey(): Promise<DataKey> {
    const keyId = this.activeKeyId;
    if (!keyId) throw new KeyUnavailableError('', 'encryption.kms.key.id is not set, so KMS cannot make data keys for new objects');
    const answer = await this.call(keyId, 'GenerateDataKey', () =>
      this.client.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: ENCRYPTION_CONTEXT })),
    );
    if (!answer.Plaintext || !answer.CiphertextBlob || !answer.KeyId)
      throw new TransientStoreError(`KMS GenerateDataKey with ${keyId} answered without a key; retrying`);
    // The key's ARN, not the alias asked with: an alias can later point elsewhere, the ARN always names the key that wrapped it.
    return { provider: this.name, keyId: answer.KeyId, plaintext: Buffer.from(answer.Plaintext), wrapped: Buffer.from(answer.CiphertextBlob) };
  }

  async unwrap(keyId: string, wrapped: Buffer): Promise<Buffer> {
    const answer = await this.call(keyId, 'Decrypt', () =>
      this.client.send(new DecryptCommand({ CiphertextBlob: wrapped, KeyId: keyId, EncryptionContext: ENCRYPTION_CONTEXT })),
    );
    if (!answer.Plaintext) throw new TransientStoreError(`KMS Decrypt with ${keyId} answered without a key; retrying`);
    return Buffer.from(answer.Plaintext);
  }

  private async call<T>(keyId: string, operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      const name = (err as Error)?.name ?? '';
      const detail = `${name}: ${(err as Error)?.message ?? String(err)}`;
      if (NOT_ITS_CIPHERTEXT.has(name)) {
        throw new KeyUnavailableError(keyId, `KMS ${operation} with key ${keyId} says the wrapped data key is not its own (${detail})`, { cause: err }, true);
      }
      if (PERMANENT.has(name)) {
        throw new KeyUnavailableError(
          keyId,
          `KMS ${operation} with key ${keyId} was refused (${detail}); check that the key exists, is enabled, and that coldstore's credentials may use it`,
          {
            cause: err,
          },
        );
      }
      throw new TransientStoreError(
        `KMS ${operation} with key ${keyId} at ${this.settings.endpoint ?? `region ${this.settings.region}`} failed (${detail}); retrying`,
        { cause: err },
      );
    }
  }
}
