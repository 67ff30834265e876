import { defineConfig, type ConfigValues } from '../../../runtime/api/index.js';
import { encryptionKeys, validateEncryptionSettings, withEncryption } from '../encryption/encryption-config.js';
import { LocalObjectStore } from './local-object-store.js';
import type { ObjectStore } from './object-store.js';
import { S3ObjectStore } from './s3-object-store.js';

const MiB = 1024 * 1024;

/** The object-store settings every connector that reads or writes backups shares. */
export const storeConfig = defineConfig({
  'storage.type': {
    type: 'string',
    default: 'local',
    oneOf: ['local', 's3'],
    group: 'Storage',
    doc: 'Where backups live: the local filesystem (embedded default) or S3 / an S3-compatible server.',
  },
  'local.root': { type: 'string', default: '.data/objects', group: 'Storage', doc: 'Root directory of the local store; buckets are its subdirectories.' },
  's3.endpoint': { type: 'string', group: 'Storage', doc: 'S3 endpoint URL for S3-compatible servers (MinIO, S3Proxy); empty for AWS.' },
  's3.region': { type: 'string', default: 'us-east-1', group: 'Storage', doc: 'S3 region.' },
  's3.path.style': {
    type: 'boolean',
    default: false,
    group: 'Storage',
    doc: 'Path-style addressing (bucket in the path); most S3-compatible servers need it.',
  },
  's3.ca.file': {
    type: 'string',
    group: 'Storage',
    doc: 'PEM file of the CA (or CAs) that signed an HTTPS s3.endpoint certificate, trusted in addition to the system CAs; empty: the system CAs only.',
  },
  's3.access.key.id': { type: 'string', group: 'Storage', doc: 'Static access key id; empty: the AWS default credential chain (env, profile, instance role).' },
  's3.secret.access.key': { type: 'password', group: 'Storage', doc: 'Static secret key, with s3.access.key.id. Use a ${env:...} or ${file:...} placeholder.' },
  's3.sse': { type: 'string', default: 'none', oneOf: ['none', 'AES256', 'aws:kms'], group: 'Storage', doc: 'Server-side encryption of written objects.' },
  's3.sse.kms.key.id': { type: 'string', group: 'Storage', doc: 'KMS key for s3.sse=aws:kms; empty: the account default key.' },
  's3.checksums': {
    type: 'string',
    default: 'when_required',
    oneOf: ['when_required', 'when_supported'],
    group: 'Storage',
    doc: 'When the SDK adds CRC checksums to requests: when_required works with every S3-compatible server; when_supported adds them to every upload (AWS).',
  },
  's3.multipart.threshold.bytes': { type: 'int', default: 16 * MiB, min: 5 * MiB, group: 'Storage', doc: 'Objects at least this large are uploaded in parts.' },
  's3.part.size.bytes': { type: 'int', default: 8 * MiB, min: 5 * MiB, group: 'Storage', doc: 'Part size of multipart uploads.' },
  ...encryptionKeys,
});

export type StoreSettings = ConfigValues<typeof storeConfig.keys>;

/** Cross-field rules of the storage settings, for a plugin's validateAll. */
export function validateStoreSettings(raw: Record<string, string>): { field: string; message: string }[] {
  const errors: { field: string; message: string }[] = [];
  if (Boolean(raw['s3.access.key.id']) !== Boolean(raw['s3.secret.access.key'])) {
    errors.push({ field: 's3.secret.access.key', message: 's3.access.key.id and s3.secret.access.key go together' });
  }
  if (raw['s3.endpoint']) {
    try {
      new URL(raw['s3.endpoint']);
    } catch {
      errors.push({ field: 's3.endpoint', message: `is not a URL: "${raw['s3.endpoint']}"` });
    }
  }
  errors.push(...validateEncryptionSettings(raw));
  return errors;
}

/** The configured store, encrypting and decrypting as the encryption.* settings say. */
export function createObjectStore(settings: StoreSettings): ObjectStore {
  return withEncryption(plainObjectStore(settings), settings);
}

function plainObjectStore(settings: StoreSettings): ObjectStore {
  if (settings['storage.type'] === 'local') return new LocalObjectStore(settings['local.root']);
  const keyId = settings['s3.access.key.id'];
  const secret = settings['s3.secret.access.key'];
  const sse = settings['s3.sse'];
  return new S3ObjectStore({
    region: settings['s3.region'],
    pathStyle: settings['s3.path.style'],
    ...(settings['s3.endpoint'] ? { endpoint: settings['s3.endpoint'] } : {}),
    ...(settings['s3.ca.file'] ? { caFile: settings['s3.ca.file'] } : {}),
    ...(keyId && secret ? { credentials: { accessKeyId: keyId, secretAccessKey: secret } } : {}),
    ...(sse !== 'none' ? { sse: sse as 'AES256' | 'aws:kms' } : {}),
    ...(settings['s3.sse.kms.key.id'] ? { sseKmsKeyId: settings['s3.sse.kms.key.id'] } : {}),
    checksums: settings['s3.checksums'] as 'when_required' | 'when_supported',
    multipartThresholdBytes: settings['s3.multipart.threshold.bytes'],
    partSizeBytes: settings['s3.part.size.bytes'],
  });
}
