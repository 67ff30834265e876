import { createHash } from 'node:crypto';
import { ConfigError, type RawConfig, type SourceTaskContext, type TopicPartition } from '../../runtime/api/index.js';
import { eventsLocation, type Location } from '../common/backup-location.js';
import { retryTransient, type ObjectStore } from '../common/object-store/object-store.js';
import { createObjectStore } from '../common/object-store/store-config.js';
import { loadBackupPlan, type BackupPlan } from './backup-plan.js';
import { restoreSourceConfig, TASK_COUNT_KEY, TASK_PARTITIONS_KEY, TOPIC_PARTITIONS_KEY, type RestoreSourceSettings } from './config.js';
import { partitionBounds, untilTimestampOf, type PartitionBounds } from './partition-bounds.js';
import { prepareTarget, type TopicTarget } from './targets.js';

/** A backed-up topic's partition count and where its records go. */
export interface TargetOf {
  sourcePartitions: number;
  target: TopicTarget;
}

/** What one RestoreSource task (target=kafka) restores, from where, to where. */
export interface RestoreJob {
  settings: RestoreSourceSettings;
  store: ObjectStore;
  location: Location;
  /** The backup by id restored (restore.backup.id), when one is. */
  plan: BackupPlan | undefined;
  /** This task's share of the backed-up partitions, in the order restored. */
  partitions: TopicPartition[];
  /** Per `topic/partition` of this task's share. */
  bounds: Map<string, PartitionBounds>;
  /** Per backed-up topic (every topic of the job: the offsets phase translates them all). */
  targets: Map<string, TargetOf>;
  untilTimestamp: number | undefined;
  taskCount: number;
  /** Identifies this run of the job (the config every task shares), so markers of an earlier run do not count. */
  runId: string;
}

/** `topic:partition,…` and `topic:count,…` task-config values. */
function parsePairs(text: string | undefined): [string, number][] {
  return (text ?? '')
    .split(',')
    .filter(Boolean)
    .map((entry) => {
      const cut = entry.lastIndexOf(':');
      return [entry.slice(0, cut), Number(entry.slice(cut + 1))];
    });
}

function runIdOf(config: RawConfig): string {
  const shared = Object.entries(config)
    .filter(([k]) => k !== TASK_PARTITIONS_KEY)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return createHash('sha256').update(JSON.stringify(shared)).digest('hex').slice(0, 16);
}

/** Reads a task's config, the backup by id's manifest when one is restored, and finds or creates every target topic. */
export async function openRestoreJob(config: RawConfig, context: SourceTaskContext): Promise<RestoreJob> {
  const { values: settings, errors } = restoreSourceConfig.validate(config);
  if (errors.length > 0) throw new ConfigError(errors, 'RestoreSource config');
  const store = createObjectStore(settings);
  const location = eventsLocation(settings);
  const backupId = settings['restore.backup.id'];
  const plan =
    backupId === undefined
      ? undefined
      : await retryTransient(`read the manifest of backup ${backupId}`, () => loadBackupPlan(store, location, backupId, settings.topics));
  const partitions = parsePairs(config[TASK_PARTITIONS_KEY]).map(([topic, partition]) => ({ topic, partition }));
  const targets = new Map<string, TargetOf>();
  for (const [source, sourcePartitions] of parsePairs(config[TOPIC_PARTITIONS_KEY])) {
    const target = await retryTransient(`prepare the target of ${source}`, () =>
      prepareTarget({ settings, cluster: context.cluster, store, location, source, sourcePartitions, log: context.log, metadata: plan?.topics[source] }),
    );
    targets.set(source, { sourcePartitions, target });
  }
  return {
    settings,
    store,
    location,
    plan,
    partitions,
    bounds: partitionBounds(settings, plan, partitions),
    targets,
    untilTimestamp: untilTimestampOf(settings),
    taskCount: Number(config[TASK_COUNT_KEY] ?? '1'),
    runId: runIdOf(config),
  };
}
