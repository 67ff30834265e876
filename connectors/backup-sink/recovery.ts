import type { TaskLogger, TopicPartition } from '../../runtime/api/index.js';
import type { ObjectStore } from '../shared/object-store/object-store.js';
import type { Location } from '../shared/backup-location.js';
import type { RangeKeys } from './bundle-layout.js';
import { PermanentUploadError } from './bundle-uploader.js';
import type { IntentLog } from './intents.js';
import type { PlannedRange } from './partition-writer.js';

export interface RecoveryPlan {
  /** Where to start reading: past the bundles already durable from the committed offset on. */
  start: bigint | undefined;
  /** Ranges fixed before a crash, in offset order, that the writer must respect. */
  plan: PlannedRange[];
}

/**
 * Works out how to resume a partition without writing any offset twice. The
 * store says what is durable: bundles starting at or after the committed offset
 * (a StartAfter listing, so the cost does not grow with the backup), each checked
 * by its metadata so a foreign object cannot pass for a bundle. The intents
 * say what was sealed but maybe not uploaded. Durable bundles right at the
 * committed offset are skipped by starting after them; the rest is planned.
 */
export async function planRecovery(args: {
  store: ObjectStore;
  location: Location;
  keys: RangeKeys;
  intents: IntentLog;
  tp: TopicPartition;
  committed: bigint | undefined;
  log: TaskLogger;
  retry: <T>(what: string, work: () => Promise<T>) => Promise<T>;
}): Promise<RecoveryPlan> {
  const { store, location, keys, tp, committed } = args;
  const prefix = `${location.prefix}${keys.prefix(tp)}`;
  const startAfter = committed === undefined ? undefined : `${location.prefix}${keys.startAfter(tp, committed)}`;
  const durable = await args.retry(`list ${location.bucket}/${prefix}`, async () => {
    const found: PlannedRange[] = [];
    for await (const object of store.list(location.bucket, prefix, startAfter)) {
      const range = keys.parse(object.key.slice(location.prefix.length));
      if (!range || range.topic !== tp.topic || range.partition !== tp.partition) {
        args.log.warn({ key: object.key }, 'ignoring an object that is not a bundle of this partition');
        continue;
      }
      // Trust a listed key only if the object says it is that bundle: a foreign object must not hide records.
      const head = await store.head(location.bucket, object.key);
      const meta = head?.metadata ?? {};
      if (meta['coldstore-format'] !== keys.format || meta['coldstore-range-start'] !== String(range.start) || meta['coldstore-range-end'] !== String(range.end)) {
        throw new PermanentUploadError(
          `Conflict: ${location.bucket}/${object.key} has the name of a range object but is not a coldstore ${keys.format} object of that range ` +
            `(format ${meta['coldstore-format'] ?? 'none'}). Remove it, or back up under a new backup.label.`,
        );
      }
      found.push({ start: range.start, end: range.end, durable: true });
    }
    return found;
  });
  const intents = (await args.intents.load(tp)).filter((i) => committed === undefined || i.end >= committed);
  const byStart = new Map<bigint, PlannedRange>();
  for (const i of intents) byStart.set(i.start, { start: i.start, end: i.end, durable: false });
  for (const d of durable) byStart.set(d.start, d);
  const ranges = [...byStart.values()].sort((a, b) => (a.start < b.start ? -1 : 1));

  let start = committed;
  while (ranges[0]?.durable && (start === undefined || ranges[0].start === start)) start = ranges.shift()!.end + 1n;
  const plan: PlannedRange[] = [];
  let cursor = start;
  for (const range of ranges) {
    if (cursor !== undefined && range.start < cursor) {
      args.log.warn({ partition: `${tp.topic}/${tp.partition}`, start: String(range.start), end: String(range.end) }, 'ignoring a range that overlaps an earlier one');
      continue;
    }
    plan.push(range);
    cursor = range.end + 1n;
  }
  const planned = new Set(plan.filter((p) => !p.durable).map((p) => p.start));
  const stale = (await args.intents.load(tp)).filter((i) => !planned.has(i.start)).map((i) => i.start);
  await args.intents.forget(tp, stale);
  return { start, plan };
}
