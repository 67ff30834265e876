import { ColdstoreError, ErrorCodes } from '../../../runtime/api/index.js';
import type { Location } from '../backup-location.js';
import { readManifests } from '../backup-manifests.js';
import { METADATA_PREFIX } from '../formats/backup-metadata.js';
import type { ObjectStore } from '../object-store/object-store.js';
import { forEachBounded } from '../bounded.js';
import { parseBundleKeyStrictly } from './bundle-key.js';
import { DEFAULT_VERIFY_CONCURRENCY } from './report.js';

export type BundleSummary = {
  /** Relative to the events location: what `coldstore inspect` takes. */
  key: string;
  rangeStart: number;
  rangeEnd: number;
  /** From the manifest or the object's metadata; null when the object's metadata does not say. */
  records: number | null;
  bytes: number;
};

export type PartitionSummary = {
  partition: number;
  objects: number;
  records: number;
  bytes: number;
  /**
   * Continuous backup: the offsets of the first and last record backed up. Backup by
   * id: the cut, startOffset..endOffset-1. Null when there is nothing.
   */
  firstOffset: number | null;
  lastOffset: number | null;
  /** Present with the `objects` option. */
  bundles?: BundleSummary[];
};

export type TopicSummary = { topic: string; objects: number; records: number; bytes: number; partitions: PartitionSummary[] };

export type BackupDescription = {
  backupId: number | null;
  bucket: string;
  objects: number;
  records: number;
  bytes: number;
  /** Keys under the events location that are not bundles (continuous backup only; `coldstore verify` names them). */
  foreignObjects: number;
  topics: TopicSummary[];
};

export type DescribeOptions = {
  store: ObjectStore;
  location: Location;
  backupId?: number;
  /** Only this topic. */
  topic?: string;
  /** HEAD requests at the same time (continuous backup; default 8). */
  concurrency?: number;
  /** Also list every bundle of each partition. */
  objects?: boolean;
};

/**
 * What a backup holds, per topic and partition: for a backup by id from its
 * manifests alone, for the continuous backup from a listing plus one HEAD per bundle
 * (record counts and first/last offsets are in the object metadata).
 */
export async function describeBackup(options: DescribeOptions): Promise<BackupDescription> {
  const partitions = options.backupId === undefined ? await describeContinuous(options) : await describeById({ ...options, backupId: options.backupId });
  return summarize(options, partitions);
}

interface PartitionTally {
  topic: string;
  summary: PartitionSummary;
  bundles: BundleSummary[];
}

interface Described {
  partitions: Map<string, PartitionTally>;
  foreignObjects: number;
}

function tallyFor(described: Described, topic: string, partition: number): PartitionTally {
  const id = `${topic}/${partition}`;
  let tally = described.partitions.get(id);
  if (!tally) {
    tally = { topic, bundles: [], summary: { partition, objects: 0, records: 0, bytes: 0, firstOffset: null, lastOffset: null } };
    described.partitions.set(id, tally);
  }
  return tally;
}

async function describeById(options: DescribeOptions & { backupId: number }): Promise<Described> {
  const { store, location, backupId } = options;
  const manifests = await readManifests(store, location, backupId);
  if (manifests.length === 0) throw new ColdstoreError(ErrorCodes.BACKUP_NOT_FOUND, `No backup ${backupId} in ${location.bucket} (${store.description}); \`coldstore ls --backups\` lists the backups there.`);
  const described: Described = { partitions: new Map(), foreignObjects: 0 };
  for (const partition of manifests.flatMap((m) => m.partitions)) {
    if (options.topic !== undefined && partition.topic !== options.topic) continue;
    const { summary, bundles } = tallyFor(described, partition.topic, partition.partition);
    if (partition.startOffset < partition.endOffset) {
      summary.firstOffset = Math.min(summary.firstOffset ?? partition.startOffset, partition.startOffset);
      summary.lastOffset = Math.max(summary.lastOffset ?? partition.endOffset - 1, partition.endOffset - 1);
    }
    for (const object of partition.objects) {
      summary.objects++;
      summary.records += object.records;
      summary.bytes += object.size;
      bundles.push({ key: object.key, rangeStart: object.rangeStart, rangeEnd: object.rangeEnd, records: object.records, bytes: object.size });
    }
  }
  return described;
}

async function describeContinuous(options: DescribeOptions): Promise<Described> {
  const { store, location } = options;
  const described: Described = { partitions: new Map(), foreignObjects: 0 };

  async function* listedBundles(): AsyncGenerator<{ tally: PartitionTally; bundle: BundleSummary }> {
    const prefix = `${location.prefix}${options.topic === undefined ? '' : `${options.topic}/`}`;
    for await (const item of store.list(location.bucket, prefix)) {
      const key = item.key.slice(location.prefix.length);
      if (key.startsWith(METADATA_PREFIX)) continue;
      const named = parseBundleKeyStrictly(key);
      if (!named || (options.topic !== undefined && named.topic !== options.topic)) {
        described.foreignObjects++;
        continue;
      }
      const tally = tallyFor(described, named.topic, named.partition);
      const bundle: BundleSummary = { key, rangeStart: Number(named.start), rangeEnd: Number(named.end), records: null, bytes: item.size };
      tally.bundles.push(bundle);
      tally.summary.objects++;
      tally.summary.bytes += item.size;
      yield { tally, bundle };
    }
  }

  await forEachBounded(listedBundles(), options.concurrency ?? DEFAULT_VERIFY_CONCURRENCY, async ({ tally, bundle }) => {
    const head = await store.head(location.bucket, `${location.prefix}${bundle.key}`);
    const metadata = head?.metadata ?? {};
    const records = wholeNumber(metadata['coldstore-records']);
    if (records !== undefined) {
      bundle.records = records;
      tally.summary.records += records;
    }
    // Without metadata, the key's range is the best bound there is.
    const first = wholeNumber(metadata['coldstore-first-offset']) ?? bundle.rangeStart;
    const last = wholeNumber(metadata['coldstore-last-offset']) ?? bundle.rangeEnd;
    tally.summary.firstOffset = Math.min(tally.summary.firstOffset ?? first, first);
    tally.summary.lastOffset = Math.max(tally.summary.lastOffset ?? last, last);
  });
  return described;
}

function wholeNumber(text: string | undefined): number | undefined {
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

function summarize(options: DescribeOptions, described: Described): BackupDescription {
  const byTopic = new Map<string, TopicSummary>();
  for (const { topic, summary, bundles } of described.partitions.values()) {
    let topicSummary = byTopic.get(topic);
    if (!topicSummary) {
      topicSummary = { topic, objects: 0, records: 0, bytes: 0, partitions: [] };
      byTopic.set(topic, topicSummary);
    }
    topicSummary.objects += summary.objects;
    topicSummary.records += summary.records;
    topicSummary.bytes += summary.bytes;
    topicSummary.partitions.push(options.objects ? { ...summary, bundles: [...bundles].sort((a, b) => a.rangeStart - b.rangeStart) } : summary);
  }
  const topics = [...byTopic.values()].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
  for (const topic of topics) topic.partitions.sort((a, b) => a.partition - b.partition);
  return {
    backupId: options.backupId ?? null,
    bucket: options.location.bucket,
    objects: topics.reduce((n, t) => n + t.objects, 0),
    records: topics.reduce((n, t) => n + t.records, 0),
    bytes: topics.reduce((n, t) => n + t.bytes, 0),
    foreignObjects: described.foreignObjects,
    topics,
  };
}
