import { ColdstoreError, ConfigError, ErrorCodes, type Connector, type RawConfig } from '../../runtime/api/index.js';
import { eventsLocation } from '../common/backup-location.js';
import { createObjectStore } from '../common/object-store/store-config.js';
import { backedUpPartitions } from './backed-up-topics.js';
import { loadBackupPlan } from './backup-plan.js';
import { restoreSourceConfig, TASK_COUNT_KEY, TASK_PARTITIONS_KEY, TOPIC_PARTITIONS_KEY, type RestoreSourceSettings } from './config.js';
import { withStoreRetries } from './store-retries.js';
import { targetTopicName } from './targets.js';
import { RestoreTaskOfConfig } from './task-of-config.js';

/** Cross-field checks of target=kafka. */
export function kafkaTargetErrors(settings: RestoreSourceSettings): { field: string; message: string }[] {
  const errors: { field: string; message: string }[] = [];
  if (settings['restore.backup.id'] !== undefined && settings['restore.until.offsets'].length > 0) {
    errors.push({ field: 'restore.until.offsets', message: 'cannot be combined with restore.backup.id, whose cut already fixes the offsets' });
  }
  if (settings['restore.mode'] === 'follow') {
    const fixed = {
      'restore.backup.id': 'a backup by id is fixed',
      'restore.until.timestamp': 'a standby has no end',
      'restore.until.offsets': 'a standby has no end',
    } as const;
    for (const [field, why] of Object.entries(fixed)) {
      const value = settings[field as keyof typeof fixed];
      if (value !== undefined && !(Array.isArray(value) && value.length === 0))
        errors.push({ field, message: `cannot be combined with restore.mode=follow: ${why}` });
    }
    if (!settings['restore.phases'].includes('records'))
      errors.push({ field: 'restore.phases', message: 'restore.mode=follow restores records (and syncs groups)' });
  } else if (settings['topics.regex']) {
    errors.push({ field: 'topics.regex', message: 'is for restore.mode=follow; list the topics of a one-time restore in topics' });
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
      // A standby follows partitions that may not be backed up yet: each task finds its own (followerOf).
      if (values['restore.mode'] === 'follow') return;
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
      if (config['restore.mode'] === 'follow')
        return Array.from({ length: Math.max(1, maxTasks) }, () => ({ ...config, [TASK_COUNT_KEY]: String(Math.max(1, maxTasks)) }));
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
    createTask: () => new RestoreTaskOfConfig(),
  };
}
