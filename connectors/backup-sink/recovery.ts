import { tpKey, type TaskLogger, type TaskStateStore, type TopicPartition } from '../../runtime/api/index.js';
import type { ObjectStore } from '../common/object-store/object-store.js';
import { BackupLocation, type Location } from '../common/backup-location.js';
import type { RangeKeys } from '../layouts/layout.js';
import { PermanentUploadError } from './bundle-uploader.js';
import type { PlannedRange } from './partition-writer.js';
import type { RangeClaims } from './range-claims.js';
import { MetadataName } from '../layouts/metadata-names.js';

export interface RecoveryPlan {
  /** Where to start reading: past the partition's durable ranges; undefined when the store holds none. */
  start: bigint | undefined;
  /** Ranges fixed earlier, in offset order, that the writer must respect. */
  plan: PlannedRange[];
  /** Whether the store holds any range of the partition (a first claim must then follow the last one). */
  anchored: boolean;
  /** The start of the last durable range reading starts after: the next recovery's anchor. */
  anchor: bigint | undefined;
}

export interface RecoveryArgs {
  store: ObjectStore;
  location: Location;
  keys: RangeKeys;
  claims: RangeClaims;
  /** The connector's shared state: where the anchors (and, from older versions, intents) are kept. */
  state: TaskStateStore;
  tp: TopicPartition;
  /** The offset the runtime would start from; only a hint (the store decides). */
  committed: bigint | undefined;
  log: TaskLogger;
  retry: <T>(what: string, work: () => Promise<T>) => Promise<T>;
}

/**
 * A hint of where a partition's listing may start: the start of the last range this
 * connector saw durable at the head of the partition. Wrong hints cost only time: a
 * hint the store does not confirm makes recovery list the whole partition.
 */
const anchorKey = (tp: TopicPartition) => `anchor/${tpKey(tp)}`;
/** Write-ahead intents of versions before range claims: sealed ranges, kept until planned once. */
const legacyIntentsKey = (tp: TopicPartition) => `intents/${tpKey(tp)}`;

export async function saveAnchor(state: TaskStateStore, tp: TopicPartition, start: bigint): Promise<void> {
  await state.put(anchorKey(tp), start.toString());
}

export async function forgetPartitionState(state: TaskStateStore, tp: TopicPartition): Promise<void> {
  await state.delete(anchorKey(tp));
  await state.delete(legacyIntentsKey(tp));
}

/**
 * Works out how to resume a partition without writing any offset twice, from what
 * the store proves rather than from a local offset (which may be stale: another
 * writer may have gone on meanwhile, or the local state may be older or newer than
 * the bucket). The ranges are the layout's range objects (durable) and the range
 * claims (fixed, maybe not written yet), listed from the anchor, or from the start
 * of the partition when there is no anchor or the store does not confirm it. Reading
 * starts after the durable ranges at the head of that list; every range after that
 * is planned, so claimed ranges are rebuilt with exactly their boundaries.
 */
export async function planRecovery(args: RecoveryArgs): Promise<RecoveryPlan> {
  const { tp, log } = args;
  const partition = tpKey(tp);
  const stored = await args.state.get<string>(anchorKey(tp));
  const anchor = typeof stored === 'string' && /^\d+$/.test(stored) ? BigInt(stored) : undefined;
  let ranges = await listRanges(args, anchor);
  if (anchor !== undefined && ranges[0]?.start !== anchor) {
    log.warn({ partition, anchor: String(anchor) }, 'the store does not hold the range this task last saw durable; listing the whole partition');
    ranges = await listRanges(args, undefined);
  }
  ranges = await withLegacyIntents(args, ranges);

  let start = ranges[0]?.start;
  let lastDurable: bigint | undefined;
  while (ranges[0]?.durable && ranges[0].start === start) {
    lastDurable = ranges[0].start;
    start = ranges.shift()!.end + 1n;
  }
  const plan: PlannedRange[] = [];
  let cursor = start;
  for (const range of ranges) {
    if (cursor !== undefined && range.start < cursor) {
      log.warn({ partition, start: String(range.start), end: String(range.end) }, 'ignoring a range that overlaps an earlier one');
      continue;
    }
    plan.push(range);
    cursor = range.end + 1n;
  }
  if (start !== undefined && args.committed !== undefined && args.committed >= 0n && args.committed !== start) {
    log.info(
      { partition, stored: String(args.committed), store: String(start) },
      'the stored offset differs from what the store holds; resuming where the store says',
    );
  }
  return { start, plan, anchored: start !== undefined, anchor: lastDurable };
}

/** The partition's ranges from `from` on (all when undefined), by start: range objects are durable, claims without one are not. */
async function listRanges(args: RecoveryArgs, from: bigint | undefined): Promise<PlannedRange[]> {
  const { store, keys, tp, claims } = args;
  const location = BackupLocation.of(args.location);
  const startAfter = from === undefined || from <= 0n ? undefined : keys.startAfter(tp, from - 1n);
  return args.retry(`list ${location.bucket}/${location.key(keys.prefix(tp))}`, async () => {
    const claimed = await claims.list(tp, from);
    const byStart = new Map<bigint, PlannedRange>();
    for await (const object of location.list(store, keys.prefix(tp), startAfter)) {
      const range = keys.parse(object.key);
      if (!range || range.topic !== tp.topic || range.partition !== tp.partition) {
        args.log.warn({ key: object.fullKey }, 'ignoring an object that is not a bundle of this partition');
        continue;
      }
      // A range a claim names is this connector's; others (older versions wrote no claims)
      // must say they are that range, so a foreign object cannot hide records. Checked from
      // the runtime's offset on, as before claims existed.
      const checked = claimed.has(range.start) || (args.committed !== undefined && range.end < args.committed);
      if (!checked) await expectRangeObject(store, location, keys, object.fullKey, range);
      byStart.set(range.start, { start: range.start, end: range.end, durable: true });
    }
    for (const [start, key] of claimed) {
      if (byStart.has(start)) continue;
      const end = await claims.endOf(key);
      if (end === undefined)
        throw new PermanentUploadError(
          `Conflict: ${location.bucket}/${key} is named like a range claim but is not one. Remove it, or back up under a new backup.label.`,
        );
      byStart.set(start, { start, end, durable: false });
    }
    return [...byStart.values()].sort((a, b) => (a.start < b.start ? -1 : 1));
  });
}

async function expectRangeObject(store: ObjectStore, location: Location, keys: RangeKeys, key: string, range: { start: bigint; end: bigint }): Promise<void> {
  const meta = (await store.head(location.bucket, key))?.metadata ?? {};
  if (meta[MetadataName.format] !== keys.format || meta[MetadataName.rangeStart] !== String(range.start) || meta[MetadataName.rangeEnd] !== String(range.end)) {
    throw new PermanentUploadError(
      `Conflict: ${location.bucket}/${key} has the name of a range object but is not a coldstore ${keys.format} object of that range ` +
        `(format ${meta[MetadataName.format] ?? 'none'}). Remove it, or back up under a new backup.label.`,
    );
  }
}

/** Ranges an older version sealed before a crash and recorded only locally: planned where the store has no range at their start, then forgotten. */
async function withLegacyIntents(args: RecoveryArgs, ranges: PlannedRange[]): Promise<PlannedRange[]> {
  const intents = (await args.state.get<{ start: string; end: string }[]>(legacyIntentsKey(args.tp))) ?? [];
  if (intents.length === 0) return ranges;
  const byStart = new Map(ranges.map((r) => [r.start, r]));
  for (const i of intents) {
    const [start, end] = [BigInt(i.start), BigInt(i.end)];
    if ((args.committed === undefined || end >= args.committed) && !byStart.has(start)) byStart.set(start, { start, end, durable: false });
  }
  await args.state.delete(legacyIntentsKey(args.tp));
  return [...byStart.values()].sort((a, b) => (a.start < b.start ? -1 : 1));
}
