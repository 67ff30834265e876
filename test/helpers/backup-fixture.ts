// Backups written the way BackupSink writes them (PartitionWriter cuts the records,
// BundleUploader encodes, gzips and stores each bundle), plus their manifests, for
// tests that read backups back (verify, inspect, ls).
import { BundleUploader } from '../../connectors/backup-sink/bundle-uploader.js';
import { PartitionWriter, type SealedBundle } from '../../connectors/backup-sink/partition-writer.js';
import { OpenKafkaBundle } from '../../connectors/layouts/kafka-v1/open-bundle.js';
import type { Location } from '../../connectors/common/backup-location.js';
import {
  manifestKey,
  MANIFEST_FORMAT,
  serializeManifest,
  type BackupManifest,
  type ManifestObject,
  type ManifestPartition,
} from '../../connectors/common/formats/backup-manifest.js';
import type { ObjectStore } from '../../connectors/common/object-store/object-store.js';
import type { SinkRecord, TaskLogger, TaskMetrics } from '../../runtime/api/index.js';

const quietLog: TaskLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const ignoredMetrics: TaskMetrics = { add: () => undefined, record: () => undefined, set: () => undefined };

/**
 * A record whose fields exercise the JSON encodings: every third key is null, every
 * fifth value is binary (not UTF-8), every fourth has a header with a null value.
 */
export function fixtureRecord(topic: string, partition: number, offset: number): SinkRecord {
  return {
    topic,
    partition,
    offset: BigInt(offset),
    timestamp: 1_700_000_000_000 + offset,
    timestampType: offset % 7 === 0 ? 'LOG_APPEND_TIME' : 'CREATE_TIME',
    key: offset % 3 === 0 ? null : Buffer.from(`k${offset}`),
    value: offset % 5 === 0 ? Buffer.from([0xff, 0xfe, offset & 0xff]) : Buffer.from(`value ${offset} ✓`),
    headers: offset % 4 === 0 ? [{ key: 'h', value: null }] : [{ key: 'n', value: Buffer.from(String(offset)) }],
  };
}

/** Backs one partition's records up in bundles of `bundleRecords` and returns them as a manifest lists them. */
export async function backUpPartition(
  store: ObjectStore,
  location: Location,
  topic: string,
  partition: number,
  offsets: readonly number[],
  bundleRecords: number,
): Promise<ManifestObject[]> {
  const uploader = new BundleUploader({
    store,
    location,
    gzipLevel: 6,
    permanentErrorRetries: 0,
    log: quietLog,
    metrics: ignoredMetrics,
    stopped: () => false,
  });
  const limits = { maxRecords: bundleRecords, maxBytes: 64 * 1024 * 1024, maxAgeMs: 60_000 };
  const writer = new PartitionWriter({ topic, partition }, limits, undefined, [], (expectedBytes) => new OpenKafkaBundle(expectedBytes));
  const sealed: SealedBundle<OpenKafkaBundle>[] = [];
  for (const offset of offsets) sealed.push(...writer.add(fixtureRecord(topic, partition, offset), 0).sealed);
  sealed.push(...writer.sealBuffered());
  const objects: ManifestObject[] = [];
  for (const bundle of sealed) {
    await uploader.upload(bundle);
    const fullKey = uploader.keyOf(bundle);
    const stored = await store.head(location.bucket, fullKey);
    if (!stored) throw new Error(`${fullKey} was not stored`);
    objects.push({
      key: fullKey.slice(location.prefix.length),
      size: stored.size,
      sha256: stored.metadata['coldstore-body-sha256']!,
      records: bundle.records,
      rangeStart: Number(bundle.start),
      rangeEnd: Number(bundle.end),
    });
  }
  return objects;
}

/** Writes a manifest for these partitions as backup `backupId` of connector `connector`. */
export async function writeManifest(
  store: ObjectStore,
  location: Location,
  backupId: number,
  partitions: ManifestPartition[],
  connector = 'backup',
): Promise<BackupManifest> {
  const manifest: BackupManifest = {
    format: MANIFEST_FORMAT,
    backupId,
    connector,
    layout: 'kafka',
    createdAt: '2026-01-01T00:00:00.000Z',
    completedAt: '2026-01-01T00:00:05.000Z',
    partitions,
    topics: Object.fromEntries(
      [...new Set(partitions.map((p) => p.topic))].map((t) => [
        t,
        { partitions: 2, replicationFactor: 1, configs: {}, capturedAt: '2026-01-01T00:00:00.000Z' },
      ]),
    ),
    groupOffsets: { format: 'coldstore-group-offsets-v1', takenAt: 1_767_225_600_000, groups: {} },
  };
  await store.put(location.bucket, `${location.prefix}${manifestKey(backupId, connector)}`, serializeManifest(manifest), {});
  return manifest;
}
