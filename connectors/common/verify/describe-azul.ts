import { readAzulIndexEntry } from '../../layouts/azul/index-entry-reader.js';
import { azulLayout } from '../../layouts/azul/layout.js';
import { AZUL_INDEX_PREFIX, AZUL_REJECTS_PREFIX, parseAzulIndexKeyStrictly } from '../../layouts/azul/objects.js';
import type { BundleKey } from '../../layouts/layout.js';
import { ObjectDefect } from '../../layouts/object-defect.js';
import { BackupLocation } from '../backup-location.js';
import { forEachBounded } from '../bounded.js';
import { METADATA_PREFIX } from '../formats/backup-metadata.js';
import type { DescribeOptions } from './describe-backup.js';
import { tallyFor, type Described } from './describe-tally.js';
import { DEFAULT_VERIFY_CONCURRENCY } from './report.js';

/**
 * The continuous backup of a layout=azul BackupSink, per topic and partition, from its
 * index entries (one GET each) and one listing for the objects' sizes: an event bundle
 * holds no range of its own (ranges of identical events share one), so the entries say
 * which ranges it holds. A partition counts each object its entries name once, and
 * each range's events and rejected records. Damaged entries are left to verify.
 */
export async function describeAzul(options: DescribeOptions): Promise<Described> {
  const { store, topic } = options;
  const location = BackupLocation.of(options.location);
  const described: Described = { partitions: new Map(), foreignObjects: 0 };
  const sizes = new Map<string, number>();
  for (const prefix of topic === undefined ? [''] : azulLayout.topicPrefixes(topic)) {
    for await (const { key, size } of location.list(store, prefix)) {
      if (!key.startsWith(METADATA_PREFIX) || key.startsWith(AZUL_REJECTS_PREFIX)) sizes.set(key, size);
    }
  }
  const named = new Set<string>();
  const counted = new Map<string, Set<string>>();

  async function* ranges(): AsyncGenerator<BundleKey & { key: string }> {
    for await (const { key } of location.list(store, topic === undefined ? AZUL_INDEX_PREFIX : `${AZUL_INDEX_PREFIX}${topic}/`)) {
      const range = parseAzulIndexKeyStrictly(key);
      if (range && (topic === undefined || range.topic === topic)) yield { key, ...range };
    }
  }

  await forEachBounded(ranges(), options.concurrency ?? DEFAULT_VERIFY_CONCURRENCY, async (range) => {
    let entry;
    try {
      entry = await readAzulIndexEntry(store, location, range);
    } catch (err) {
      if (err instanceof ObjectDefect) return;
      throw err;
    }
    const { summary, bundles } = tallyFor(described, range.topic, range.partition);
    const [start, end] = [Number(range.start), Number(range.end)];
    summary.firstOffset = Math.min(summary.firstOffset ?? start, start);
    summary.lastOffset = Math.max(summary.lastOffset ?? end, end);
    const id = `${range.topic}/${range.partition}`;
    const seen = counted.get(id) ?? new Set<string>();
    counted.set(id, seen);
    const objects = [
      entry.bundle && { key: entry.bundle.key, records: entry.bundle.events },
      entry.rejects && { key: entry.rejects.key, records: entry.rejects.records },
    ];
    for (const object of objects) {
      if (!object) continue;
      named.add(object.key);
      const bytes = sizes.get(object.key) ?? 0;
      summary.records += object.records;
      bundles.push({ key: object.key, rangeStart: start, rangeEnd: end, records: object.records, bytes });
      if (seen.has(object.key)) continue;
      seen.add(object.key);
      summary.objects++;
      summary.bytes += bytes;
    }
  });
  for (const key of sizes.keys()) {
    // With a topic, an event bundle of its group no entry of it names may be another topic's (another prefix).
    if (!named.has(key) && (topic === undefined || key.startsWith(AZUL_REJECTS_PREFIX))) described.foreignObjects++;
  }
  return described;
}
