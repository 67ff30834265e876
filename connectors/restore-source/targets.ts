import { ColdstoreError, ErrorCodes, type KafkaCluster, type TaskLogger } from '../../runtime/api/index.js';
import type { Location } from '../common/backup-location.js';
import { parseJsonObject, topicMetadataKey, type TopicMetadata } from '../common/formats/backup-metadata.js';
import type { ObjectStore } from '../common/object-store/object-store.js';
import type { RestoreSourceSettings } from './config.js';
import { kafkaPartitionForKey } from './murmur2.js';

/** The target topic name for a backed-up topic: explicit renames first, then the regex rename. */
export function targetTopicName(settings: RestoreSourceSettings, source: string): string {
  for (const entry of settings['topic.rename']) {
    const [from, to] = entry.split(':');
    if (from === source && to) return to;
  }
  const regex = settings['topic.rename.regex'];
  if (regex) {
    const whole = new RegExp(`^(?:${regex})$`);
    if (whole.test(source)) return source.replace(whole, settings['topic.rename.replacement']);
  }
  return source;
}

/** Where one backed-up topic's records go and how they are partitioned. */
export interface TopicTarget {
  topic: string;
  partitions: number;
  /** preserve: same partition as in the backup; hash: Kafka's murmur2 of the key. */
  mode: 'preserve' | 'hash';
}

export function targetPartition(target: TopicTarget, key: Buffer | null, sourcePartition: number): number {
  if (target.mode === 'preserve') return sourcePartition;
  return key === null ? sourcePartition % target.partitions : kafkaPartitionForKey(key, target.partitions);
}

/** Configs that must not be copied to a restored topic: LogAppendTime would replace every original timestamp. */
const NOT_COPIED = new Set(['message.timestamp.type']);

/**
 * Finds (or creates, with the backed-up partition count and configs) the target topic
 * of a backed-up topic and decides how records are partitioned into it.
 */
async function readTopicMetadata(store: ObjectStore, location: Location, topic: string): Promise<TopicMetadata | undefined> {
  const key = `${location.prefix}${topicMetadataKey(topic)}`;
  const object = await store.get(location.bucket, key);
  return object ? parseJsonObject<TopicMetadata>(object.body, 'coldstore-topic-v1', key) : undefined;
}

export async function prepareTarget(args: {
  settings: RestoreSourceSettings;
  cluster: KafkaCluster;
  store: ObjectStore;
  location: Location;
  source: string;
  sourcePartitions: number;
  log: TaskLogger;
  /** The topic's metadata when the restore already has it (a backup by id keeps it in its manifest). */
  metadata?: Omit<TopicMetadata, 'format' | 'topic'> | undefined;
}): Promise<TopicTarget> {
  const { settings, cluster, source } = args;
  const topic = targetTopicName(settings, source);
  let described = await cluster.describeTopic(topic);
  if (!described) {
    if (!settings['topic.create']) {
      throw new ColdstoreError(
        ErrorCodes.CONFIG_INVALID,
        `Target topic ${topic} (for backed-up topic ${source}) does not exist. Create it, or set topic.create=true.`,
      );
    }
    const metadata = args.metadata ?? (await readTopicMetadata(args.store, args.location, source));
    const overrides = settings['topic.create.configs'].map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]);
    const configs = {
      ...Object.fromEntries(Object.entries(metadata?.configs ?? {}).filter(([name]) => !NOT_COPIED.has(name))),
      ...Object.fromEntries(overrides),
    };
    const partitions = Math.max(metadata?.partitions ?? 0, args.sourcePartitions);
    if (!metadata)
      args.log.warn(
        { topic, source },
        'the backup has no topic metadata; creating the target with the partition count seen in the backup and broker-default configs',
      );
    await cluster.createTopic(topic, partitions, { replicationFactor: settings['topic.create.replication.factor'], configs });
    args.log.info({ topic, source, partitions, configs }, 'created target topic');
    for (let attempt = 0; !described && attempt < 50; attempt++) {
      described = await cluster.describeTopic(topic);
      if (!described) await new Promise((r) => setTimeout(r, 200));
    }
    if (!described) throw new ColdstoreError(ErrorCodes.KAFKA_ERROR, `Created topic ${topic} but the cluster does not show it; retry the restore.`);
  }
  const mode = settings.partitioner === 'hash' || described.partitions !== args.sourcePartitions ? 'hash' : 'preserve';
  if (mode === 'hash' && settings.partitioner === 'auto') {
    args.log.info({ topic, source, from: args.sourcePartitions, to: described.partitions }, 'partition counts differ; re-partitioning by key');
  }
  return { topic, partitions: described.partitions, mode };
}
