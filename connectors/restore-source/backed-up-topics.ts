import { eventsLocation, type BackupLocationSettings } from '../common/backup-location.js';
import { parseJsonObject, topicMetadataKey, type TopicMetadata } from '../common/formats/backup-metadata.js';
import type { ObjectStore } from '../common/object-store/object-store.js';
import { firstClaimKey } from '../common/formats/claim-keys.js';
import type { TopicPartition } from '../../runtime/api/index.js';
import type { Location } from '../common/backup-location.js';

const TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;

/** A backed-up topic's partition count: from its metadata, or the partitions its bundles are under. */
export async function backedUpPartitions(store: ObjectStore, settings: BackupLocationSettings, topic: string): Promise<number[]> {
  const location = eventsLocation(settings);
  const listed = (await store.listDirectories(location.bucket, `${location.prefix}${topic}/`)).filter((d) => /^\d+$/.test(d)).map(Number);
  const key = `${location.prefix}${topicMetadataKey(topic)}`;
  const object = await store.get(location.bucket, key);
  const count = object ? parseJsonObject<TopicMetadata>(object.body, 'coldstore-topic-v1', key).partitions : 0;
  const all = new Set([...listed, ...Array.from({ length: count }, (_, p) => p)]);
  return [...all].sort((a, b) => a - b);
}

/** The backed-up topics a follow-mode restore follows: those listed, and those in the backup matching `regex` (whole name). */
export async function followedTopics(
  store: ObjectStore,
  settings: BackupLocationSettings,
  listed: readonly string[],
  regex: string | undefined,
): Promise<string[]> {
  const topics = new Set(listed);
  if (regex) {
    const whole = new RegExp(`^(?:${regex})$`);
    const location = eventsLocation(settings);
    for (const name of await store.listDirectories(location.bucket, location.prefix)) if (TOPIC_NAME.test(name) && whole.test(name)) topics.add(name);
  }
  return [...topics].sort();
}

/**
 * Where a partition's backup starts: the first range BackupSink claimed for it, or
 * undefined when there is no claim (a backup written before range claims, or one whose
 * claims expired).
 */
export async function firstBackedUpOffset(store: ObjectStore, location: Location, tp: TopicPartition): Promise<bigint | undefined> {
  const key = `${location.prefix}${firstClaimKey(tp)}`;
  const object = await store.get(location.bucket, key);
  if (!object) return undefined;
  let first: unknown;
  try {
    first = (JSON.parse(object.body.toString('utf8')) as { first?: unknown }).first;
  } catch {
    return undefined; // not a claim: the partition is followed from its first bundle, as before claims
  }
  return typeof first === 'string' && /^\d+$/.test(first) ? BigInt(first) : undefined;
}
