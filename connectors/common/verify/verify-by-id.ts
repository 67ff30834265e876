import { readManifests } from '../backup-manifests.js';
import { backupPrefix, type BackupManifest, type ManifestPartition } from '../formats/backup-manifest.js';
import { forEachBounded } from '../bounded.js';
import { readVerifiedBundle, type BundleExpectation } from './checked-reads.js';
import { parseBundleKeyStrictly, partitionDirectory } from '../../layouts/kafka-v1/bundle-keys.js';
import { PartitionCoverage } from './coverage.js';
import { DEFAULT_VERIFY_CONCURRENCY, ReportTally, type VerifyOptions, type VerifyReport } from './report.js';

/**
 * Verifies a backup by id against its manifests: every object they list is read
 * and checked against what the manifest states, and each partition's objects must
 * tile the offsets of the cut.
 */
export async function verifyBackupById(options: VerifyOptions & { backupId: number }): Promise<VerifyReport> {
  const { store, location, backupId } = options;
  const tally = new ReportTally(backupId, location.bucket);
  const manifestsKey = backupPrefix(backupId);
  let manifests: BackupManifest[];
  try {
    manifests = await readManifests(store, location, backupId);
  } catch (err) {
    // A manifest that does not parse: nothing says what the backup should hold.
    tally.problem({ kind: 'manifest', key: manifestsKey, message: `unreadable manifest of backup ${backupId}: ${(err as Error).message}` });
    return tally.toReport();
  }
  if (manifests.length === 0) {
    tally.problem({ kind: 'manifest', key: manifestsKey, message: `no backup ${backupId} in ${location.bucket}` });
    return tally.toReport();
  }
  tally.manifests = manifests.length;

  const objects: BundleExpectation[] = [];
  for (const manifest of manifests) {
    for (const partition of manifest.partitions) {
      tally.partitions++;
      objects.push(...plannedObjects(partition, tally));
    }
  }

  const progress = () => options.onProgress?.({ objects: tally.objects, totalObjects: objects.length, bytes: tally.bytes });
  progress();
  await forEachBounded(objects, options.concurrency ?? DEFAULT_VERIFY_CONCURRENCY, async (expected) => {
    tally.count(await readVerifiedBundle(store, location, expected));
    progress();
  });
  return tally.toReport();
}

/**
 * The objects of one manifest partition to download, after checking (without
 * downloading) that they tile the cut. Holes at the ends of the cut are notes:
 * compaction, transaction markers and retention leave offsets with no record to back up.
 */
function plannedObjects(partition: ManifestPartition, tally: ReportTally): BundleExpectation[] {
  const { topic, partition: number, startOffset, endOffset, objects } = partition;
  const name = `${topic}/${number}`;
  if (objects.length === 0) {
    if (startOffset < endOffset) {
      tally.problem({
        kind: 'gap',
        key: partitionDirectory(topic, number),
        topic,
        partition: number,
        message: `offsets ${startOffset}..${endOffset - 1} are in the cut but the manifest lists no bundle for them`,
      });
    }
    return [];
  }
  const first = objects[0]!;
  const last = objects[objects.length - 1]!;
  if (first.rangeStart > startOffset) {
    tally.note(
      `${name}: the backup starts at offset ${first.rangeStart}, after the log start offset ${startOffset}: offsets ${startOffset}..${first.rangeStart - 1} are not in it (the BackupSink started there, or they held no record: compaction, transaction markers)`,
    );
  }
  if (last.rangeEnd < endOffset - 1) {
    tally.note(
      `${name}: the last bundle ends at offset ${last.rangeEnd}, before the cut's last offset ${endOffset - 1}: offsets ${last.rangeEnd + 1}..${endOffset - 1} held no record to back up (transaction markers, aborted records)`,
    );
  }

  const coverage = new PartitionCoverage(topic, number);
  const planned: BundleExpectation[] = [];
  for (const object of objects) {
    const start = BigInt(object.rangeStart);
    const end = BigInt(object.rangeEnd);
    tally.problem(coverage.next({ key: object.key, start, end }));
    const named = parseBundleKeyStrictly(object.key);
    if (!named || named.topic !== topic || named.partition !== number || named.start !== start || named.end !== end) {
      tally.problem({
        kind: 'manifest',
        key: object.key,
        topic,
        partition: number,
        message: `the manifest lists this key for ${name} offsets ${start}..${end}, but the key does not name that bundle`,
      });
      continue;
    }
    planned.push({
      key: object.key,
      topic,
      partition: number,
      start,
      end,
      stated: { by: 'the manifest', size: object.size, sha256: object.sha256, records: object.records },
    });
  }
  return planned;
}
