import type { KafkaCluster, RawConfig, TaskLogger } from '../../runtime/api/index.js';
import { BackupLocation, type Location } from '../common/backup-location.js';
import { groupSnapshotKey, topicMetadataKey, type GroupOffsetsSnapshot, type TopicMetadata } from '../common/formats/backup-metadata.js';
import type { ObjectStore } from '../common/object-store/object-store.js';
import type { BackupSinkSettings } from './config.js';

const JSON_TYPE = { 'content-type': 'application/json' };

/**
 * Keeps what a restore needs besides the records: each backed-up topic's partition
 * count and configs (rewritten when they change), and snapshots of the chosen
 * consumer groups' committed offsets on those topics (a new object when they change).
 */
export class ClusterSnapshots {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly written = new Map<string, string>();
  private lastGroups = '';
  private readonly topicsRegex: RegExp | undefined;
  private readonly exclude: RegExp | undefined;
  private readonly groupsRegex: RegExp | undefined;

  constructor(
    private readonly args: {
      settings: BackupSinkSettings;
      config: RawConfig;
      cluster: KafkaCluster;
      store: ObjectStore;
      location: Location;
      log: TaskLogger;
    },
  ) {
    const { config, settings } = args;
    this.topicsRegex = config['topics.regex'] ? new RegExp(`^(?:${config['topics.regex']})$`) : undefined;
    this.exclude = settings['topics.exclude.regex'] ? new RegExp(`^(?:${settings['topics.exclude.regex']})$`) : undefined;
    this.groupsRegex = settings['groups.regex'] ? new RegExp(`^(?:${settings['groups.regex']})$`) : undefined;
  }

  /** Snapshots now and then every interval after the previous one ended, so a slow store never stacks them up. */
  start(): void {
    const tick = () => {
      this.running = this.snapshot()
        .catch((err: unknown) =>
          this.args.log.warn({ reason: (err as Error).message }, 'could not snapshot topic metadata and group offsets; retrying at the next interval'),
        )
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.args.settings['metadata.snapshot.interval.ms']);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Whether the connector backs this topic up: its subscription, minus its exclusions. */
  coversTopic(topic: string): boolean {
    const listed = this.args.config['topics']
      ?.split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    // A regex subscription never matches Kafka's internal topics (__consumer_offsets…).
    const subscribed = listed ? listed.includes(topic) : !topic.startsWith('__') && Boolean(this.topicsRegex?.test(topic));
    return subscribed && !this.exclude?.test(topic);
  }

  private async topics(): Promise<string[]> {
    const listed = this.args.config['topics']
      ?.split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    const candidates = listed ?? (await this.args.cluster.listTopics());
    return candidates.filter((t) => this.coversTopic(t)).sort();
  }

  /** A topic's partition count, replication factor and own configs; undefined if it does not exist. */
  async describeTopic(topic: string): Promise<Omit<TopicMetadata, 'format' | 'topic'> | undefined> {
    const described = await this.args.cluster.describeTopic(topic, { configs: true });
    if (!described) return undefined;
    return {
      partitions: described.partitions,
      replicationFactor: described.replicationFactor,
      configs: described.configs ?? {},
      capturedAt: new Date().toISOString(),
    };
  }

  async snapshot(): Promise<void> {
    const { store, location } = this.args;
    await store.ensureBucket(location.bucket);
    const topics = await this.topics();
    for (const topic of topics) {
      const described = await this.describeTopic(topic);
      if (!described) continue;
      const content = JSON.stringify({ partitions: described.partitions, replicationFactor: described.replicationFactor, configs: described.configs });
      if (this.written.get(topic) === content) continue;
      const metadata: TopicMetadata = { format: 'coldstore-topic-v1', topic, ...described };
      await store.put(location.bucket, BackupLocation.of(location).key(topicMetadataKey(topic)), Buffer.from(JSON.stringify(metadata, null, 2)), JSON_TYPE);
      this.written.set(topic, content);
    }
    await this.snapshotGroups(new Set(topics));
  }

  /** The committed offsets of the chosen consumer groups on these topics. */
  async readGroups(topics: ReadonlySet<string>): Promise<GroupOffsetsSnapshot['groups']> {
    const { cluster, settings } = this.args;
    const named = new Set(settings.groups);
    if (this.groupsRegex) for (const g of await cluster.listGroups()) if (this.groupsRegex.test(g)) named.add(g);
    const groups: GroupOffsetsSnapshot['groups'] = {};
    for (const group of [...named].sort()) {
      const offsets = (await cluster.groupOffsets(group))
        .filter((o) => topics.has(o.topic))
        .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))
        .map((o) => ({ topic: o.topic, partition: o.partition, offset: Number(o.offset) }));
      if (offsets.length > 0) groups[group] = offsets;
    }
    return groups;
  }

  private async snapshotGroups(topics: Set<string>): Promise<void> {
    const { store, location, settings } = this.args;
    if (settings.groups.length === 0 && !this.groupsRegex) return;
    const groups = await this.readGroups(topics);
    const content = JSON.stringify(groups);
    if (content === this.lastGroups || (content === '{}' && this.lastGroups === '')) return;
    const takenAt = Date.now();
    const snapshot: GroupOffsetsSnapshot = { format: 'coldstore-group-offsets-v1', takenAt, groups };
    await store.put(location.bucket, BackupLocation.of(location).key(groupSnapshotKey(takenAt)), Buffer.from(JSON.stringify(snapshot, null, 2)), JSON_TYPE);
    this.lastGroups = content;
  }
}
