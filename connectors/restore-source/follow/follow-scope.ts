import { ColdstoreError, ErrorCodes, type KafkaCluster, type TaskLogger } from '../../../runtime/api/index.js';
import type { Location } from '../../common/backup-location.js';
import type { ObjectStore } from '../../common/object-store/object-store.js';
import { backedUpPartitions, followedTopics } from '../backed-up-topics.js';
import type { RestoreSourceSettings } from '../config.js';
import { prepareTarget, targetTopicName, type TopicTarget } from '../targets.js';

/**
 * Which task follows a backed-up partition: fixed by its name and the task count, so
 * partitions that appear later need no new task configs and no two tasks ever
 * restore the same partition. Partitions of one topic are spread over the tasks.
 */
export function followerOf(topic: string, partition: number, tasks: number): number {
  let hash = 0;
  for (let i = 0; i < topic.length; i++) hash = (Math.imul(hash, 31) + topic.charCodeAt(i)) >>> 0;
  return (hash + partition) % tasks;
}

/**
 * The backed-up topics a follow-mode task follows, its share of their partitions, and
 * their targets on the standby. Looked at again on an interval: a new topic gets its
 * target created, a topic whose partitions grew gets its target grown to match.
 */
export class FollowScope {
  /** Per followed source topic: its target and backed-up partition count. */
  private readonly targets = new Map<string, { target: TopicTarget; partitions: number }>();

  constructor(
    private readonly args: {
      settings: RestoreSourceSettings;
      store: ObjectStore;
      location: Location;
      cluster: KafkaCluster;
      log: TaskLogger;
      taskId: number;
      taskCount: number;
    },
  ) {}

  targetOf(topic: string): TopicTarget | undefined {
    return this.targets.get(topic)?.target;
  }

  /** Lists the backup and returns this task's partitions (every one, old and new), each with its prepared target. */
  async discover(): Promise<{ topic: string; partition: number; target: TopicTarget }[]> {
    const { settings, store, taskId, taskCount } = this.args;
    const mine: { topic: string; partition: number; target: TopicTarget }[] = [];
    const topics = this.withoutClashes(await followedTopics(store, settings, settings.topics, settings['topics.regex']));
    for (const topic of topics) {
      const partitions = await backedUpPartitions(store, settings, topic);
      const owned = partitions.filter((p) => followerOf(topic, p, taskCount) === taskId);
      if (owned.length === 0) continue;
      const target = await this.prepare(topic, partitions[partitions.length - 1]! + 1);
      for (const partition of owned) mine.push({ topic, partition, target });
    }
    return mine;
  }

  /**
   * Two followed topics that would land in one target: the one followed first (else the
   * first by name) keeps it, the other is left out, with a warning each time the backup is
   * listed. A newly backed-up topic cannot stop a running standby this way.
   */
  private withoutClashes(topics: readonly string[]): string[] {
    const owners = new Map<string, string>();
    for (const topic of [...topics].sort((a, b) => Number(this.targets.has(b)) - Number(this.targets.has(a)))) {
      const target = targetTopicName(this.args.settings, topic);
      const owner = owners.get(target);
      if (owner === undefined) owners.set(target, topic);
      else
        this.args.log.warn(
          { topic, target, followed: owner },
          "not following this backed-up topic: its target is another followed topic's; give it its own (topic.rename, topic.rename.regex) or narrow topics.regex",
        );
    }
    return topics.filter((t) => owners.get(targetTopicName(this.args.settings, t)) === t);
  }

  /** The topic's target, created or grown so each backed-up partition keeps its number. */
  private async prepare(topic: string, partitions: number): Promise<TopicTarget> {
    const known = this.targets.get(topic);
    if (known && known.partitions >= partitions) return known.target;
    const { settings, cluster, store, location, log } = this.args;
    let target = await prepareTarget({ settings, cluster, store, location, source: topic, sourcePartitions: partitions, log });
    if (target.partitions < partitions && settings.partitioner === 'auto') {
      if (settings['topic.create']) {
        await cluster.createPartitions(target.topic, partitions);
        log.info({ topic: target.topic, source: topic, partitions }, 'grew the target topic to the backed-up partition count');
        target = await prepareTarget({ settings, cluster, store, location, source: topic, sourcePartitions: partitions, log });
      } else if (known) {
        throw new ColdstoreError(
          ErrorCodes.CONFIG_INVALID,
          `Backed-up topic ${topic} grew to ${partitions} partitions but its target ${target.topic} has ${target.partitions}. Add partitions to ${target.topic} (or set topic.create=true to let the restore do it) and restart the connector.`,
        );
      }
    }
    // Once re-partitioned by key, a topic stays so: switching would break each key's order.
    if (known?.target.mode === 'hash' && target.mode === 'preserve') target = { ...target, mode: 'hash' };
    if (known && known.target.mode === 'preserve' && target.mode !== 'preserve') {
      throw new ColdstoreError(
        ErrorCodes.KAFKA_ERROR,
        `Target topic ${target.topic} has ${target.partitions} partitions, not the ${partitions} of ${topic}; records would change partitions. Fix the target's partition count and restart the connector.`,
      );
    }
    this.targets.set(topic, { target, partitions });
    return target;
  }
}
