import { tpKey, type TopicPartition } from '../../runtime/api/index.js';
import type { BackedUpRecord } from '../layouts/kafka-v1/bundle-codec.js';
import type { BackupPlan } from './backup-plan.js';
import { parseInstant, type RestoreSourceSettings } from './config.js';

/**
 * Which records of one backed-up partition a restore takes: offsets `fromOffset` to
 * `untilOffset` (inclusive), and of those only records stamped at or before
 * `untilTimestamp`. Each bound is absent when nothing limits it.
 */
export interface PartitionBounds {
  /** A backup by id starts at its cut's log start offset. */
  fromOffset?: bigint;
  untilOffset?: bigint;
  /** Kafka timestamps need not grow with offsets: a filter on every bundle, never a cut. */
  untilTimestamp?: number;
}

/** restore.until.timestamp in epoch milliseconds, when set. */
export function untilTimestampOf(settings: RestoreSourceSettings): number | undefined {
  const until = settings['restore.until.timestamp'];
  return until === undefined ? undefined : parseInstant(until);
}

/** Each partition's bounds from the point-in-time settings; a backup by id's cut replaces restore.until.offsets (the config refuses both). */
export function partitionBounds(
  settings: RestoreSourceSettings,
  plan: BackupPlan | undefined,
  partitions: readonly TopicPartition[],
): Map<string, PartitionBounds> {
  const untilTimestamp = untilTimestampOf(settings);
  const untilOffsets = new Map<string, bigint>();
  for (const entry of settings['restore.until.offsets']) {
    const [topic, partition, offset] = entry.split(':');
    untilOffsets.set(tpKey({ topic: topic!, partition: Number(partition) }), BigInt(offset!));
  }
  const bounds = new Map<string, PartitionBounds>();
  for (const tp of partitions) {
    const key = tpKey(tp);
    const range = plan?.ranges.get(key);
    const untilOffset = range ? range.end - 1n : untilOffsets.get(key);
    bounds.set(key, {
      ...(range ? { fromOffset: range.start } : {}),
      ...(untilOffset !== undefined ? { untilOffset } : {}),
      ...(untilTimestamp !== undefined ? { untilTimestamp } : {}),
    });
  }
  return bounds;
}

/** The records of a bundle within the timestamp bound (the partition reader applies the offset bounds). */
export function withinTimestamp(records: BackedUpRecord[], bounds: PartitionBounds): BackedUpRecord[] {
  const until = bounds.untilTimestamp;
  return until === undefined ? records : records.filter((r) => r.timestamp <= until);
}
