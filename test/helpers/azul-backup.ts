// An azul-layout backup written straight into fresh buckets on the test S3 server with
// the plain SDK (the way BackupSink lays it out: gzip'd raw Bulk<Model>Event bodies and
// gzip'd stream blobs, with their metadata), and what a restore of it must deliver.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { assembleBulk } from '../../connectors/layouts/azul/bulk.js';
import { azulBundleMetadata, azulStreamMetadata } from '../../connectors/layouts/azul/objects.js';
import { AZUL_MODEL_VERSION } from '../../connectors/layouts/azul/registry.js';

export const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** One bundle to back up: its group, the RFC 3339 time its key starts with, and its events' exact bytes. */
export interface BundlePlan {
  source: string;
  model: string;
  action: string;
  time: string;
  /** The last event's kafka_key, as the key carries it. */
  kafkaKey: string;
  events: Buffer[];
}

export interface StoredBundle extends BundlePlan {
  key: string;
  group: string;
  bulk: Buffer;
}

export interface AzulBackup {
  eventsBucket: string;
  streamsBucket: string;
  /** In key order. */
  bundles: StoredBundle[];
  /** Blob bytes by `source/label/sha256`. */
  streams: Map<string, Buffer>;
}

export function bundleKey(plan: BundlePlan): string {
  return `${plan.source}/${plan.model}/${plan.action}/${plan.time}-${plan.events.length}-${plan.kafkaKey}`;
}

export async function putObject(client: S3Client, bucket: string, key: string, body: Buffer, metadata: Record<string, string> = {}): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, Metadata: metadata }));
}

/** Writes the bundles and the blobs (`source/label` → blobs) of a backup labelled `label` (buckets coldstore-<label>-events/-streams). */
export async function writeAzulBackup(client: S3Client, label: string, plans: readonly BundlePlan[], blobs: Record<string, Buffer[]>): Promise<AzulBackup> {
  const backup: AzulBackup = { eventsBucket: `coldstore-${label}-events`, streamsBucket: `coldstore-${label}-streams`, bundles: [], streams: new Map() };
  await client.send(new CreateBucketCommand({ Bucket: backup.eventsBucket }));
  // A backup without streams may have no streams bucket at all (BackupSink creates it with the first blob).
  if (Object.keys(blobs).length > 0) await client.send(new CreateBucketCommand({ Bucket: backup.streamsBucket }));
  for (const plan of plans) {
    const bulk = assembleBulk(AZUL_MODEL_VERSION, plan.events);
    const key = bundleKey(plan);
    const metadata = azulBundleMetadata({ events: plan.events.length, sha256: sha256(bulk) });
    await putObject(client, backup.eventsBucket, key, gzipSync(bulk), metadata);
    backup.bundles.push({ ...plan, key, group: `${plan.source}/${plan.model}/${plan.action}`, bulk });
  }
  backup.bundles.sort((a, b) => (a.key < b.key ? -1 : 1));
  for (const [sourceLabel, list] of Object.entries(blobs)) {
    for (const blob of list) {
      const key = `${sourceLabel}/${sha256(blob)}`;
      await putObject(client, backup.streamsBucket, key, gzipSync(blob), azulStreamMetadata(sha256(blob), blob.length));
      backup.streams.set(key, blob);
    }
  }
  return backup;
}
