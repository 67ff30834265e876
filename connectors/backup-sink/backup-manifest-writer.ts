import { ColdstoreError, ErrorCodes } from '../../runtime/api/index.js';
import type { BackupCut, CutPartition } from '../common/backups.js';
import { BackupLocation, type Location } from '../common/backup-location.js';
import { listBackupIds, readManifests, recordBackupId } from '../common/backup-manifests.js';
import { mapBounded } from '../common/bounded.js';
import { MANIFEST_FORMAT, manifestKey, serializeManifest, type BackupManifest, type ManifestObject } from '../common/formats/backup-manifest.js';
import type { GroupOffsetsSnapshot, TopicMetadata } from '../common/formats/backup-metadata.js';
import { parseKafkaBundleKey } from '../layouts/kafka-v1/bundle-keys.js';
import { partitionDirectory } from '../layouts/kafka-v1/bundle-keys.js';
import type { ObjectInfo, ObjectStore } from '../common/object-store/object-store.js';
import { MetadataName } from '../layouts/metadata-names.js';

/** HEAD requests in flight while a manifest is built. */
const HEAD_CONCURRENCY = 16;

/** What BackupSink captures at the cut, kept by the runtime until the manifest is written. */
export interface CapturedAtCut {
  topics: Record<string, Omit<TopicMetadata, 'format' | 'topic'>>;
  groupOffsets: GroupOffsetsSnapshot;
}

export interface ListedBundle extends ObjectInfo {
  /** Key without the location prefix. */
  relativeKey: string;
  start: bigint;
  end: bigint;
}

/** A partition's bundles in offset order (key order). */
export async function listBundles(store: ObjectStore, location: Location, topic: string, partition: number): Promise<ListedBundle[]> {
  const bundles: ListedBundle[] = [];
  for await (const { fullKey, key: relativeKey, size, lastModified } of BackupLocation.of(location).list(store, partitionDirectory(topic, partition))) {
    const parsed = parseKafkaBundleKey(relativeKey);
    if (parsed && parsed.topic === topic && parsed.partition === partition)
      bundles.push({ key: fullKey, size, lastModified, relativeKey, start: parsed.start, end: parsed.end });
  }
  return bundles;
}

/** Whether a bundle covering start..end (inclusive) holds offsets of the cut partition. */
export function neededBy(bundle: { start: bigint; end: bigint }, cut: { startOffset: bigint; endOffset: bigint }): boolean {
  return cut.startOffset < cut.endOffset && bundle.end >= cut.startOffset && bundle.start < cut.endOffset;
}

/** The bundles a cut partition needs; they must tile its offsets, else the backup cannot be complete. */
function bundlesFor(cut: CutPartition, listed: readonly ListedBundle[]): ListedBundle[] {
  const needed = listed.filter((b) => neededBy(b, cut));
  // The bundle before the first needed one must abut it too, or the start of the cut went missing.
  const first = needed.length > 0 ? listed.indexOf(needed[0]!) : 0;
  const checked = listed.slice(Math.max(0, first - 1), first + needed.length);
  for (let i = 1; i < checked.length; i++) {
    const expected = checked[i - 1]!.end + 1n;
    if (checked[i]!.start !== expected) {
      throw new ColdstoreError(
        ErrorCodes.BACKUP_OBJECT_INVALID,
        `offsets ${expected}..${checked[i]!.start - 1n} of ${cut.topic}/${cut.partition} are missing from the backup (before ${checked[i]!.relativeKey})`,
      );
    }
  }
  if (cut.startOffset < cut.endOffset && needed.length === 0) {
    throw new ColdstoreError(
      ErrorCodes.BACKUP_OBJECT_INVALID,
      `no bundle of ${cut.topic}/${cut.partition} holds offsets ${cut.startOffset}..${cut.endOffset - 1n}`,
    );
  }
  return needed;
}

/** Checksums already known from this connector's newest earlier manifest: bundles never change, so only new ones need a HEAD. */
async function knownObjects(store: ObjectStore, location: Location, connector: string, before: number): Promise<Map<string, ManifestObject>> {
  const earlier = (await listBackupIds(store, location)).filter((id) => id < before);
  for (const id of earlier.reverse()) {
    const mine = (await readManifests(store, location, id)).find((m) => m.connector === connector);
    if (mine) return new Map(mine.partitions.flatMap((p) => p.objects.map((o) => [o.key, o])));
  }
  return new Map();
}

async function describeBundle(store: ObjectStore, location: Location, bundle: ListedBundle, known: Map<string, ManifestObject>): Promise<ManifestObject> {
  const cached = known.get(bundle.relativeKey);
  if (cached && cached.size === bundle.size) return cached;
  const head = await store.head(location.bucket, bundle.key);
  const sha256 = head?.metadata[MetadataName.bodySha256];
  const records = Number(head?.metadata[MetadataName.records]);
  if (!head || !sha256 || !Number.isSafeInteger(records))
    throw new ColdstoreError(ErrorCodes.BACKUP_OBJECT_INVALID, `${bundle.key} has no coldstore metadata: it is not a bundle written by BackupSink`);
  return { key: bundle.relativeKey, size: head.size, sha256, records, rangeStart: Number(bundle.start), rangeEnd: Number(bundle.end) };
}

/** Lists the bundles inside the cut, with their checksums, and writes the backup's manifest for this connector. */
export async function writeBackupManifest(args: {
  store: ObjectStore;
  location: Location;
  connector: string;
  layout: string;
  cut: BackupCut;
}): Promise<string> {
  const { store, location, connector, cut } = args;
  const captured = cut.captured as unknown as CapturedAtCut;
  const known = await knownObjects(store, location, connector, cut.backupId);
  const partitions = await mapBounded(cut.partitions, 4, async (p) => {
    const bundles = bundlesFor(p, await listBundles(store, location, p.topic, p.partition));
    const objects = await mapBounded(bundles, HEAD_CONCURRENCY, (b) => describeBundle(store, location, b, known));
    return { topic: p.topic, partition: p.partition, startOffset: Number(p.startOffset), endOffset: Number(p.endOffset), objects };
  });
  const manifest: BackupManifest = {
    format: MANIFEST_FORMAT,
    backupId: cut.backupId,
    connector,
    layout: args.layout,
    createdAt: new Date(cut.createdAt).toISOString(),
    completedAt: new Date().toISOString(),
    partitions,
    topics: captured.topics,
    groupOffsets: captured.groupOffsets,
  };
  const key = BackupLocation.of(location).key(manifestKey(cut.backupId, connector));
  await store.put(location.bucket, key, serializeManifest(manifest), { 'content-type': 'application/json' });
  await recordBackupId(store, location, cut.backupId);
  return key;
}
