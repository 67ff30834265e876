import { ColdstoreError, ConfigError, ErrorCodes, type Connector, type RawConfig } from '../../runtime/api/index.js';
import { eventsLocation, type BackupLocationSettings } from '../common/backup-location.js';
import { parseJsonObject, topicMetadataKey, type TopicMetadata } from '../common/formats/backup-metadata.js';
import type { ObjectStore } from '../common/object-store/object-store.js';
import { createObjectStore } from '../common/object-store/store-config.js';
import { loadBackupPlan } from './backup-plan.js';
import { restoreSourceConfig, TASK_COUNT_KEY, TASK_PARTITIONS_KEY, TOPIC_PARTITIONS_KEY, type RestoreSourceSettings } from './config.js';
import { withStoreRetries } from './store-retries.js';
import { targetTopicName } from './targets.js';
import { RestoreSourceTask } from './task.js';

/** A backed-up topic's partition count: from its metadata, or the partitions its bundles are under. */
async function backedUpPartitions(store: ObjectStore, settings: BackupLocationSettings, topic: string): Promise<number[]> {
  const location = eventsLocation(settings);
  const listed = (await store.listDirectories(location.bucket, `${location.prefix}${topic}/`)).filter((d) => /^\d+$/.test(d)).map(Number);
  const key = `${location.prefix}${topicMetadataKey(topic)}`;
  const object = await store.get(location.bucket, key);
  const count = object ? parseJsonObject<TopicMetadata>(object.body, 'coldstore-topic-v1', key).partitions : 0;
  const all = new Set([...listed, ...Array.from({ length: count }, (_, p) => p)]);
  return [...all].sort((a, b) => a - b);
}

/** Cross-field checks of target=kafka. */
export function kafkaTargetErrors(settings: RestoreSourceSettings): { field: string; message: string }[] {
  const errors: { field: string; message: string }[] = [];
  if (settings['restore.backup.id'] !== undefined && settings['restore.until.offsets'].length > 0) {
    errors.push({ field: 'restore.until.offsets', message: 'cannot be combined with restore.backup.id, whose cut already fixes the offsets' });
  }
  const targets = settings.topics.map((t) => targetTopicName(settings, t));
  const clashes = [...new Set(targets.filter((t, i) => targets.indexOf(t) !== i))];
  if (clashes.length > 0)
    errors.push({ field: 'topic.rename', message: `several topics would be restored into ${clashes.join(', ')}; give each its own target` });
  return errors;
}

/**
 * RestoreSource with target=kafka: finds the backed-up partitions of `topics` (or those
 * of a backup by id) and splits them round-robin between its tasks, which do the restoring.
 */
export function createKafkaRestoreConnector(): Connector {
  let config: RawConfig = {};
  let partitions: [string, number][] = [];
  let counts: [string, number][] = [];
  return {
    start: async (c) => {
      config = c;
      const { values, errors } = restoreSourceConfig.validate(c);
      if (errors.length > 0) throw new ConfigError(errors, 'RestoreSource config');
      const store = createObjectStore(values);
      partitions = [];
      counts = [];
      const backupId = values['restore.backup.id'];
      if (backupId !== undefined) {
        const plan = await withStoreRetries(() => loadBackupPlan(store, eventsLocation(values), backupId, values.topics));
        for (const topic of values.topics) {
          const held = [...plan.ranges.keys()]
            .filter((k) => k.startsWith(`${topic}/`))
            .map((k) => Number(k.slice(topic.length + 1)))
            .sort((a, b) => a - b);
          partitions.push(...held.map((p): [string, number] => [topic, p]));
          counts.push([topic, Math.max(plan.topics[topic]?.partitions ?? 0, held.length === 0 ? 0 : held[held.length - 1]! + 1)]);
        }
        return;
      }
      const missing: string[] = [];
      for (const topic of values.topics) {
        const found = await withStoreRetries(() => backedUpPartitions(store, values, topic));
        if (found.length === 0) missing.push(topic);
        partitions.push(...found.map((p): [string, number] => [topic, p]));
        counts.push([topic, found.length === 0 ? 0 : found[found.length - 1]! + 1]);
      }
      if (missing.length > 0) {
        const { bucket, prefix } = eventsLocation(values);
        throw new ColdstoreError(
          ErrorCodes.BACKUP_NOT_FOUND,
          `The backup in ${store.description} bucket ${bucket}${prefix ? ` (prefix ${prefix})` : ''} holds no topic ${missing.join(', ')}. Check topics, backup.label and the bucket settings.`,
        );
      }
    },
    taskConfigs: (maxTasks) => {
      const tasks = Math.max(1, Math.min(maxTasks, partitions.length));
      return Array.from({ length: tasks }, (_, task) => ({
        ...config,
        [TASK_PARTITIONS_KEY]: partitions
          .filter((_, i) => i % tasks === task)
          .map(([t, p]) => `${t}:${p}`)
          .join(','),
        [TASK_COUNT_KEY]: String(tasks),
        [TOPIC_PARTITIONS_KEY]: counts.map(([t, n]) => `${t}:${n}`).join(','),
      }));
    },
    stop: () => {},
    createTask: () => new RestoreSourceTask(),
  };
}
