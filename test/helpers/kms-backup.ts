/**
 * BackupSinks encrypting with KMS against a moto server (the stack's, or a test's own):
 * their settings, waiting for the bucket to hold a number of records, and the exactly-once
 * proof on the decrypted bundles.
 */
import { proveExactlyOnce, recordDifferences, type ExactlyOnceReport } from '../faults/fault-kit.js';
import { readPartitions } from './broker-records.js';
import { objectOpener } from './encryption.js';
import { KMS_TEST_CREDENTIALS, KMS_TEST_REGION, kmsEndpoint } from './kms.js';
import { fetchAll, recordCount, s3Client, s3Settings, type FetchedObject } from './s3.js';
import { waitFor } from './wait.js';

/** The encryption settings of a BackupSink whose data keys `keyId` (id, ARN or alias) makes. */
export function kmsEncryption(keyId: string, options: { endpoint?: string; secret?: string } = {}): Record<string, string> {
  return { 'encryption.provider': 'aws-kms', 'encryption.kms.key.id': keyId, ...kmsReading(options) };
}

/** The settings a reader (RestoreSource, verify) needs for KMS-encrypted objects: no provider, only where KMS is. */
export function kmsReading(options: { endpoint?: string; secret?: string } = {}): Record<string, string> {
  return {
    'encryption.kms.endpoint': options.endpoint ?? kmsEndpoint(),
    'encryption.kms.region': KMS_TEST_REGION,
    'encryption.kms.access.key.id': KMS_TEST_CREDENTIALS.accessKeyId,
    'encryption.kms.secret.access.key': options.secret ?? KMS_TEST_CREDENTIALS.secretAccessKey,
  };
}

/** A BackupSink into the stack's S3 with small bundles, closed by count and by age. */
export function backupConfig(topic: string, label: string, encryption: Record<string, string>): Record<string, string> {
  return {
    'connector.class': 'BackupSink',
    topics: topic,
    'backup.label': label,
    'bundle.max.records': '50',
    'bundle.max.age.ms': '500',
    'gzip.level': '1',
    ...s3Settings(),
    ...encryption,
  };
}

export function eventsBucket(label: string): string {
  return `coldstore-${label}-events`;
}

/** Waits until the bundles of `bucket` hold at least `count` records (their visible coldstore-records). */
export function untilStored(bucket: string, count: number, timeoutMs = 90_000): Promise<FetchedObject[]> {
  const client = s3Client();
  return waitFor(
    `${count} records stored in ${bucket}`,
    async () => {
      const objects = await fetchAll(client, bucket).catch(() => []);
      return recordCount(objects) >= count ? objects : undefined;
    },
    { timeoutMs, intervalMs: 500 },
  );
}

/** Opens objects encrypted with keys of the KMS at `endpoint`. */
export function kmsOpener(endpoint: string = kmsEndpoint()) {
  return objectOpener({ kms: { endpoint, region: KMS_TEST_REGION, credentials: KMS_TEST_CREDENTIALS } });
}

/** Proves the decrypted bundles of `bucket` hold the first `count` records of each partition of `topic` exactly once, byte for byte. */
export async function proveDecrypted(
  bucket: string,
  topic: string,
  counts: readonly number[],
  endpoint: string = kmsEndpoint(),
): Promise<ExactlyOnceReport & { stored: FetchedObject[] }> {
  const source = await readPartitions(counts.map((count, partition) => ({ topic, partition, count })));
  const stored = await fetchAll(s3Client(), bucket);
  return { ...proveExactlyOnce(topic, counts.length, await kmsOpener(endpoint)(stored), source, recordDifferences), stored };
}
