import type { ConfigValues, FieldError, RawConfig } from '../../../runtime/api/index.js';
import type { ObjectStore } from '../object-store/object-store.js';
import { EncryptingStore } from './encrypting-store.js';
import type { KeyProvider } from './key-provider.js';
import { KEYRING_PROVIDER, KeyringProvider, readKeyring } from './keyring.js';
import { KMS_PROVIDER, KmsProvider } from './kms-provider.js';

/** The client-side encryption settings, part of every connector's storage settings (docs/operations.md, "Encryption keys"). */
export const encryptionKeys = {
  'encryption.provider': {
    type: 'string',
    default: 'none',
    oneOf: ['none', KEYRING_PROVIDER, KMS_PROVIDER],
    group: 'Encryption',
    doc:
      'Client-side envelope encryption of every object written (AES-256-GCM, a fresh data key per object): none, keyring (the active key of ' +
      'encryption.keyring.file wraps the data keys) or aws-kms (encryption.kms.key.id makes them). Reading needs no setting but the keys.',
  },
  'encryption.keyring.file': {
    type: 'string',
    group: 'Encryption',
    doc: 'Keyring file: JSON {"active": id, "keys": {id: 32 bytes base64}}. Its keys decrypt what they encrypted, whatever encryption.provider says; keep it secret and keep every key a backup needs.',
  },
  'encryption.kms.key.id': {
    type: 'string',
    group: 'Encryption',
    doc: 'KMS key (id, ARN, alias/name or alias ARN) that makes the data keys of new objects, with encryption.provider=aws-kms. Objects record the key ARN.',
  },
  'encryption.require': {
    type: 'boolean',
    default: false,
    group: 'Encryption',
    doc:
      'Reading: refuse objects that are not encrypted (a bad object, not-authentic), so that one put in the bucket by whoever can write it is never restored. ' +
      'Leave false while objects written before encryption was turned on are still read.',
  },
  'encryption.kms.allowed.keys': {
    type: 'list',
    default: [],
    group: 'Encryption',
    doc: 'Reading: the KMS key ARNs whose objects are accepted; an object encrypted with another key is not authentic (a key someone else owns could vouch for objects they wrote). Empty: any key your credentials can Decrypt with.',
    check: (arns: readonly string[]) => {
      const bad = arns.filter((a) => !/^arn:[a-z-]+:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(a));
      return bad.length > 0
        ? `entries must be KMS key ARNs (arn:aws:kms:<region>:<account>:key/<id>; objects record the key ARN, not an alias), got ${bad.join(', ')}`
        : undefined;
    },
  },
  'encryption.kms.region': { type: 'string', group: 'Encryption', doc: 'KMS region; empty: s3.region.' },
  'encryption.kms.endpoint': { type: 'string', group: 'Encryption', doc: 'KMS endpoint URL for a VPC endpoint or a KMS-compatible server; empty: AWS.' },
  'encryption.kms.access.key.id': { type: 'string', group: 'Encryption', doc: 'Static access key id for KMS; empty: the AWS default credential chain.' },
  'encryption.kms.secret.access.key': {
    type: 'password',
    group: 'Encryption',
    doc: 'Static secret key for KMS, with encryption.kms.access.key.id. Use a ${env:...} or ${file:...} placeholder.',
  },
} as const;

type EncryptionSettings = ConfigValues<typeof encryptionKeys> & { 's3.region': string };

/** Cross-field rules: the chosen provider has its key, the keyring file reads, KMS credentials come in pairs. */
export function validateEncryptionSettings(raw: RawConfig): FieldError[] {
  const errors: FieldError[] = [];
  const provider = raw['encryption.provider'] ?? 'none';
  const keyringFile = raw['encryption.keyring.file'];
  if (provider === KEYRING_PROVIDER && !keyringFile) errors.push({ field: 'encryption.keyring.file', message: 'is required with encryption.provider=keyring' });
  if (keyringFile) errors.push(...readKeyring(keyringFile).errors.map((message) => ({ field: 'encryption.keyring.file', message })));
  if (provider === KMS_PROVIDER && !raw['encryption.kms.key.id'])
    errors.push({ field: 'encryption.kms.key.id', message: 'is required with encryption.provider=aws-kms' });
  if (Boolean(raw['encryption.kms.access.key.id']) !== Boolean(raw['encryption.kms.secret.access.key'])) {
    errors.push({ field: 'encryption.kms.secret.access.key', message: 'encryption.kms.access.key.id and encryption.kms.secret.access.key go together' });
  }
  const endpoint = raw['encryption.kms.endpoint'];
  if (endpoint && !URL.canParse(endpoint)) errors.push({ field: 'encryption.kms.endpoint', message: `is not a URL: "${endpoint}"` });
  return errors;
}

/**
 * The store, encrypting writes with the configured provider and decrypting reads with every
 * provider configured. KMS always reads (with the default chain when nothing is set), so an
 * encrypted backup restores wherever the credentials allow Decrypt.
 */
export function withEncryption(store: ObjectStore, settings: EncryptionSettings): ObjectStore {
  const provider = settings['encryption.provider'];
  const keyringFile = settings['encryption.keyring.file'];
  const readers = new Map<string, KeyProvider>();
  if (keyringFile) readers.set(KEYRING_PROVIDER, new KeyringProvider(keyringFile, provider === KEYRING_PROVIDER));
  const keyId = settings['encryption.kms.key.id'];
  const endpoint = settings['encryption.kms.endpoint'];
  const accessKeyId = settings['encryption.kms.access.key.id'];
  const secretAccessKey = settings['encryption.kms.secret.access.key'];
  readers.set(
    KMS_PROVIDER,
    new KmsProvider({
      keyId: provider === KMS_PROVIDER ? keyId : undefined,
      region: settings['encryption.kms.region'] || settings['s3.region'],
      ...(endpoint ? { endpoint } : {}),
      ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
    }),
  );
  const allowed = settings['encryption.kms.allowed.keys'];
  return new EncryptingStore(store, provider === 'none' ? undefined : readers.get(provider), readers, {
    requireEncrypted: settings['encryption.require'],
    ...(allowed.length > 0 ? { allowedKmsKeys: new Set(allowed) } : {}),
  });
}
