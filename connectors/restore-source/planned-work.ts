import type { TopicPartition } from '../../runtime/api/index.js';
import type { Location } from '../common/backup-location.js';
import { parseKafkaBundleKey } from '../layouts/kafka-v1/bundle-keys.js';
import type { ObjectStore } from '../common/object-store/object-store.js';

export interface PartitionScope extends TopicPartition {
  /** The bundle this run resumes in (key without location prefix): listing starts after it. */
  resumeKey?: string;
  fromOffset?: bigint;
  untilOffset?: bigint;
  /** The bundles to read with their stored sizes (a backup by id's manifest), instead of a listing. */
  objects?: readonly { key: string; size: number }[];
}

/** The bundles and (stored) bytes a run has left to read, from listings alone: what progress and an ETA measure against. */
export async function plannedWork(store: ObjectStore, location: Location, scopes: readonly PartitionScope[]): Promise<{ objects: number; bytes: number }> {
  const planned = { objects: 0, bytes: 0 };
  for (const scope of scopes) {
    const prefix = `${location.prefix}${scope.topic}/${scope.partition}/`;
    const after = scope.resumeKey;
    const items = scope.objects
      ? scope.objects.filter((o) => after === undefined || o.key > after).map((o) => ({ key: `${location.prefix}${o.key}`, size: o.size }))
      : store.list(location.bucket, prefix, after === undefined ? undefined : `${location.prefix}${after}`);
    for await (const item of items) {
      const parsed = parseKafkaBundleKey(item.key.slice(location.prefix.length));
      if (!parsed) continue;
      if (scope.untilOffset !== undefined && parsed.start > scope.untilOffset) break;
      if (scope.fromOffset !== undefined && parsed.end < scope.fromOffset) continue;
      planned.objects++;
      planned.bytes += item.size;
    }
  }
  return planned;
}
