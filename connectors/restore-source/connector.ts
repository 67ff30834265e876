import { ColdstoreError, ConfigError, ErrorCodes, type ConnectorPlugin, type RawConfig } from '../../runtime/api/index.js';
import { eventsLocation, streamsLocation, validateLocationSettings, type BackupLocationSettings } from '../shared/backup-location.js';
import { parseJsonObject, topicMetadataKey, type TopicMetadata } from '../shared/formats/backup-metadata.js';
import { TransientStoreError, type ObjectStore } from '../shared/object-store/object-store.js';
import { createObjectStore } from '../shared/object-store/store-config.js';
import { loadBackupPlan } from './backup-plan.js';
import { restoreSourceConfig, TASK_COUNT_KEY, TASK_PARTITIONS_KEY, TOPIC_PARTITIONS_KEY, type RestoreSourceSettings } from './config.js';
import { sourcesIn } from './dispatcher/backup-objects.js';
import { DispatcherRestoreTask } from './dispatcher/task.js';
import { restoreMetricSpecs } from './metrics.js';
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

/** A store that is briefly unreachable when the connector starts should not fail it: retry for about a minute. */
async function withStoreRetries<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (!(err instanceof TransientStoreError) || attempt >= 7) throw err;
      await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
    }
  }
}

/** target=dispatcher: the backup holds Azul sources, and every source to restore (in its events or streams bucket). */
async function checkAzulBackup(store: ObjectStore, settings: RestoreSourceSettings): Promise<void> {
  const locations = [eventsLocation(settings), streamsLocation(settings)];
  const found = new Set<string>();
  for (const location of locations) for (const source of await sourcesIn(store, location, [])) found.add(source);
  const wanted = settings['restore.sources'];
  const missing = wanted.filter((s) => !found.has(s));
  if (found.size > 0 && missing.length === 0) return;
  const where = `buckets ${locations.map((l) => `${l.bucket}${l.prefix ? ` (prefix ${l.prefix})` : ''}`).join(' and ')}`;
  throw new ColdstoreError(
    ErrorCodes.BACKUP_NOT_FOUND,
    found.size === 0
      ? `The backup in ${store.description} ${where} holds no Azul source. Check backup.label and the bucket settings.`
      : `The backup in ${store.description} ${where} holds no source ${missing.join(', ')}; it holds ${[...found].sort().join(', ')}. Check restore.sources.`,
  );
}

/** target=dispatcher takes none of the settings that only the Kafka target honours: they would be ignored silently. */
function dispatcherTargetErrors(settings: RestoreSourceSettings): { field: string; message: string }[] {
  const errors: { field: string; message: string }[] = [];
  const kafkaOnly = {
    topics: settings.topics.length > 0,
    'restore.backup.id': settings['restore.backup.id'] !== undefined,
    'restore.until.timestamp': settings['restore.until.timestamp'] !== undefined,
    'restore.until.offsets': settings['restore.until.offsets'].length > 0,
    groups: settings.groups.length > 0,
  };
  for (const [field, set] of Object.entries(kafkaOnly)) {
    if (set) errors.push({ field, message: 'is not used with target=dispatcher, which restores the whole azul backup of the sources in restore.sources (empty: all)' });
  }
  return errors;
}

/**
 * RestoreSource: finds the backed-up partitions of the chosen topics and splits
 * them between its tasks; the tasks do the restoring. With target=dispatcher it runs
 * one task that posts an azul-layout backup to the Azul dispatcher.
 */
export const restoreSource: ConnectorPlugin = {
  className: 'coldstore.connectors.RestoreSource',
  aliases: ['RestoreSource', 'RestoreSourceConnector'],
  type: 'source',
  version: '1.0.0',
  config: restoreSourceConfig,
  metrics: restoreMetricSpecs,
  validateAll: (config) => {
    const errors = validateLocationSettings(config);
    if (config['topic.rename.regex'] && !config['topic.rename.replacement']) {
      errors.push({ field: 'topic.rename.replacement', message: 'is required with topic.rename.regex' });
    }
    const settings = restoreSourceConfig.validate(config).values;
    if (settings.target === 'dispatcher') return [...errors, ...dispatcherTargetErrors(settings)];
    if (settings['restore.backup.id'] !== undefined && settings['restore.until.offsets'].length > 0) {
      errors.push({ field: 'restore.until.offsets', message: 'cannot be combined with restore.backup.id, whose cut already fixes the offsets' });
    }
    const targets = settings.topics.map((t) => targetTopicName(settings, t));
    const clashes = [...new Set(targets.filter((t, i) => targets.indexOf(t) !== i))];
    if (clashes.length > 0) errors.push({ field: 'topic.rename', message: `several topics would be restored into ${clashes.join(', ')}; give each its own target` });
    return errors;
  },
  create: () => {
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
        if (values.target === 'dispatcher') return withStoreRetries(() => checkAzulBackup(store, values));
        const backupId = values['restore.backup.id'];
        if (backupId !== undefined) {
          const plan = await withStoreRetries(() => loadBackupPlan(store, eventsLocation(values), backupId, values.topics));
          for (const topic of values.topics) {
            const held = [...plan.ranges.keys()].filter((k) => k.startsWith(`${topic}/`)).map((k) => Number(k.slice(topic.length + 1))).sort((a, b) => a - b);
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
          throw new ColdstoreError(ErrorCodes.BACKUP_NOT_FOUND, `The backup in ${store.description} bucket ${bucket}${prefix ? ` (prefix ${prefix})` : ''} holds no topic ${missing.join(', ')}. Check topics, backup.label and the bucket settings.`);
        }
      },
      taskConfigs: (maxTasks) => {
        // Streams before events needs one coordinator: one task, parallel inside.
        if (config['target'] === 'dispatcher') return [{ ...config }];
        const tasks = Math.max(1, Math.min(maxTasks, partitions.length));
        return Array.from({ length: tasks }, (_, task) => ({
          ...config,
          [TASK_PARTITIONS_KEY]: partitions.filter((_, i) => i % tasks === task).map(([t, p]) => `${t}:${p}`).join(','),
          [TASK_COUNT_KEY]: String(tasks),
          [TOPIC_PARTITIONS_KEY]: counts.map(([t, n]) => `${t}:${n}`).join(','),
        }));
      },
      stop: () => {},
      createTask: () => (config['target'] === 'dispatcher' ? new DispatcherRestoreTask() : new RestoreSourceTask()),
    };
  },
};
