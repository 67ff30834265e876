import { ColdstoreError, ErrorCodes } from '../../../runtime/api/index.js';
import type { BundleKey, Layout } from '../../layouts/layout.js';
import { MetadataName } from '../../layouts/metadata-names.js';
import { BackupLocation, type Location } from '../backup-location.js';
import { readManifests } from '../backup-manifests.js';
import { forEachBounded } from '../bounded.js';
import type { ObjectStore } from '../object-store/object-store.js';
import { UndecryptableObject } from '../encryption/encrypting-store.js';
import { describeAzul } from './describe-azul.js';
import { tallyFor, type Described } from './describe-tally.js';
import { resolveLayout, type BackupLayout, type LayoutChoice } from './layout.js';
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
  /** Present for the azul layout's continuous backup: its bundles are listed per topic and partition from their metadata. */
  layout?: BackupLayout;
  objects: number;
  records: number;
  bytes: number;
  /** Keys under the events location that are not bundles, or azul keys without coldstore metadata (continuous backup only; `coldstore verify` names them). */
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
  /** The continuous backup's layout (default `auto`: found out from the location). */
  layout?: LayoutChoice;
};

/**
 * What a backup holds, per topic and partition: for a backup by id from its
 * manifests alone, for the continuous backup from a listing plus one HEAD per bundle
 * (record counts and first/last offsets are in the object metadata), or for the azul
 * layout from its index entries (describe-azul.ts).
 */
export async function describeBackup(options: DescribeOptions): Promise<BackupDescription> {
  if (options.backupId !== undefined) return summarize(options, await describeById({ ...options, backupId: options.backupId }));
  const layout = await resolveLayout(options.store, options.location, options.layout);
  const described = layout.name === 'azul' ? await describeAzul(options) : await describeContinuous(options, layout);
  const description = summarize(options, described);
  return layout.namedInReports ? { ...description, layout: layout.name } : description;
}

async function describeById(options: DescribeOptions & { backupId: number }): Promise<Described> {
  const { store, location, backupId } = options;
  const manifests = await readManifests(store, location, backupId);
  if (manifests.length === 0)
    throw new ColdstoreError(
      ErrorCodes.BACKUP_NOT_FOUND,
      `No backup ${backupId} in ${location.bucket} (${store.description}); \`coldstore ls --backups\` lists the backups there.`,
    );
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

interface Listed {
  /** Relative to the events location. */
  key: string;
  bytes: number;
  /** What the key says it holds. */
  named: BundleKey;
}

async function describeContinuous(options: DescribeOptions, layout: Layout): Promise<Described> {
  const { store, topic } = options;
  const location = BackupLocation.of(options.location);
  const described: Described = { partitions: new Map(), foreignObjects: 0 };

  async function* listed(): AsyncGenerator<Listed> {
    // The whole location, or only where the topic's objects can be.
    for (const prefix of topic === undefined ? [''] : layout.topicPrefixes(topic)) {
      for await (const { key, size } of location.list(store, prefix)) {
        const listedKey = layout.classify(key);
        if (listedKey.kind === 'own') continue;
        // Only the azul layout has them, and describeAzul reads it through its index.
        if (listedKey.kind === 'bundle-by-metadata') described.foreignObjects++;
        else if (listedKey.kind === 'foreign' || (topic !== undefined && listedKey.named.topic !== topic)) described.foreignObjects++;
        else yield { key, bytes: size, named: listedKey.named };
      }
    }
  }

  await forEachBounded(listed(), options.concurrency ?? DEFAULT_VERIFY_CONCURRENCY, async (item) => {
    // An object that does not decrypt is still listed, its record count unknown; verify says why.
    const head = await store.head(location.bucket, location.key(item.key)).catch((err: unknown) => {
      if (err instanceof UndecryptableObject) return undefined;
      throw err;
    });
    const metadata = head?.metadata ?? {};
    const { named } = item;
    if (options.topic !== undefined && named.topic !== options.topic) return;
    const tally = tallyFor(described, named.topic, named.partition);
    const bundle: BundleSummary = { key: item.key, rangeStart: Number(named.start), rangeEnd: Number(named.end), records: null, bytes: item.bytes };
    tally.bundles.push(bundle);
    tally.summary.objects++;
    tally.summary.bytes += item.bytes;
    const records = wholeNumber(metadata[MetadataName.records] ?? metadata[MetadataName.recordCount]);
    if (records !== undefined) {
      bundle.records = records;
      tally.summary.records += records;
    }
    // Without metadata, the range is the best bound there is.
    const first = wholeNumber(metadata[MetadataName.firstOffset]) ?? bundle.rangeStart;
    const last = wholeNumber(metadata[MetadataName.lastOffset]) ?? bundle.rangeEnd;
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
