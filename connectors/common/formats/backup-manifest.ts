import { METADATA_PREFIX, parseJsonObject, type GroupOffsetsSnapshot, type TopicMetadata } from './backup-metadata.js';

/**
 * The manifest of a backup by id (docs/formats.md): what a consistent cut holds.
 * One manifest per BackupSink connector that took part, all under the backup's
 * key prefix in that connector's events bucket.
 */
export const MANIFEST_FORMAT = 'coldstore-backup-manifest-v1';

/** A bundle the backup needs, as listed when the backup completed. */
export interface ManifestObject {
  /** Key without the location prefix, e.g. `orders/0/00000000000000000000-00000000000000000999.avro.gz`. */
  key: string;
  /** Size of the stored (gzip'd) object in bytes. */
  size: number;
  /** Hex SHA-256 of the uncompressed body (as its body sha256 metadata). */
  sha256: string;
  records: number;
  /** The covered offset range (inclusive), as in the key. */
  rangeStart: number;
  rangeEnd: number;
}

export interface ManifestPartition {
  topic: string;
  partition: number;
  /** The partition's log start offset at the cut: offsets below it had left Kafka, so the backup does not hold them. */
  startOffset: number;
  /** The cut: the partition's end offset (next offset) at that moment; the backup holds offsets startOffset..endOffset-1. */
  endOffset: number;
  /** The bundles covering startOffset..endOffset-1, in offset order; empty when startOffset = endOffset. */
  objects: ManifestObject[];
}

export interface BackupManifest {
  format: typeof MANIFEST_FORMAT;
  backupId: number;
  /** The BackupSink connector that wrote these partitions. */
  connector: string;
  layout: string;
  /** When the cut was taken / when every partition was durable up to it (ISO 8601). */
  createdAt: string;
  completedAt: string;
  partitions: ManifestPartition[];
  /** Partition counts and topic-level configs at the cut, per topic. */
  topics: Record<string, Omit<TopicMetadata, 'format' | 'topic'>>;
  /** Committed offsets of the connector's chosen consumer groups at the cut. */
  groupOffsets: GroupOffsetsSnapshot;
}

const BACKUPS_PREFIX = `${METADATA_PREFIX}backups/`;
/** Ids are zero-padded so listing order is id order. */
const ID_DIGITS = 20;

export function backupPrefix(backupId: number): string {
  return `${BACKUPS_PREFIX}${String(backupId).padStart(ID_DIGITS, '0')}/`;
}

export function manifestKey(backupId: number, connector: string): string {
  return `${backupPrefix(backupId)}${encodeURIComponent(connector)}.json`;
}

/** Where every backup's directory lives (list its sub-directories to find the ids). */
export const BACKUPS_ROOT = BACKUPS_PREFIX;

/** `{"highestId": n}`: the highest id completed here, kept when backups are deleted. */
export const HIGHEST_ID_KEY = `${BACKUPS_PREFIX}highest-id.json`;

/** The id encoded in a backup directory name, or undefined for anything else. */
export function backupIdOf(directory: string): number | undefined {
  return /^\d{20}$/.test(directory) ? Number(directory) : undefined;
}

export function parseManifest(body: Buffer, key: string): BackupManifest {
  const manifest = parseJsonObject<BackupManifest>(body, MANIFEST_FORMAT, key);
  if (!Number.isSafeInteger(manifest.backupId) || !Array.isArray(manifest.partitions)) throw new Error(`${key} is not a complete ${MANIFEST_FORMAT} object`);
  return manifest;
}

export function serializeManifest(manifest: BackupManifest): Buffer {
  return Buffer.from(`${JSON.stringify(manifest, null, 1)}\n`);
}
