import type { KafkaCluster, PartitionOffset, TaskLogger, TaskMetrics } from '../../../runtime/api/index.js';
import type { Location } from '../../common/backup-location.js';
import type { ObjectStore } from '../../common/object-store/object-store.js';
import { chosenGroups, findGroupSnapshot } from '../group-offsets.js';
import { restoreMetrics } from '../metrics.js';
import type { TopicTarget } from '../targets.js';
import type { SyncPoints } from './sync-points.js';

/** A source partition this task follows, and where its records go. */
export interface FollowedPartition {
  topic: string;
  partition: number;
  target: TopicTarget;
}

/** What the last sync did, for the task's status. */
export interface GroupSyncFigures {
  /** When the snapshot translated was taken on the primary (ISO 8601). */
  snapshot_taken_at?: string;
  synced_at?: string;
  /** Per group: partitions committed by the last sync, or why it was left alone. */
  groups: Record<string, number | 'active on the standby'>;
}

/**
 * Consumer-group offset sync of a follow-mode restore: on an interval, each task
 * translates the newest backed-up offsets of the chosen groups on the partitions it
 * follows and commits them on the standby — only for groups with no active member
 * there, and only forward, so a consumer already running on the standby is never
 * moved. A partition re-partitioned by key (hash) cannot be translated and is left out.
 */
export class GroupSync {
  private figures: GroupSyncFigures = { groups: {} };
  private lastSnapshot: string | undefined;

  constructor(
    private readonly args: {
      wanted: readonly string[];
      cluster: KafkaCluster;
      store: ObjectStore;
      location: Location;
      points: SyncPoints;
      log: TaskLogger;
      metrics: TaskMetrics;
    },
  ) {}

  get status(): GroupSyncFigures {
    return this.figures;
  }

  /** One sync over the partitions followed now. */
  async sync(followed: readonly FollowedPartition[]): Promise<void> {
    const { cluster, log } = this.args;
    const found = await findGroupSnapshot(this.args.store, this.args.location, undefined);
    if (!found) return;
    if (found.key !== this.lastSnapshot) log.debug({ snapshot: found.key }, 'translating a new consumer-group snapshot');
    this.lastSnapshot = found.key;
    const groups: GroupSyncFigures['groups'] = {};
    for (const [group, offsets] of chosenGroups(found.snapshot, this.args.wanted)) {
      const translated: PartitionOffset[] = [];
      /** Partitions whose offset cannot be translated (further back than the segments kept). */
      const unknown: { topic: string; partition: number }[] = [];
      for (const f of followed) {
        const at = offsets.get(`${f.topic}/${f.partition}`);
        if (at === undefined || f.target.mode !== 'preserve') continue;
        const offset = this.args.points.translate(`${f.topic}/${f.partition}`, at);
        if (offset !== undefined) translated.push({ topic: f.target.topic, partition: f.partition, offset });
        else unknown.push({ topic: f.target.topic, partition: f.partition });
      }
      if (translated.length === 0 && unknown.length === 0) continue;
      if ((await cluster.groupMembers(group)).length > 0) {
        groups[group] = 'active on the standby';
        continue;
      }
      const current = new Map((await cluster.groupOffsets(group)).map((o) => [`${o.topic}/${o.partition}`, o.offset]));
      const forward = translated.filter((o) => (current.get(`${o.topic}/${o.partition}`) ?? -1n) < o.offset);
      // A group with no offset there at all would start at the end (auto.offset.reset=latest) and skip what it had not
      // read: it gets the partition's start instead, re-reading rather than skipping.
      const unset = unknown.filter((p) => !current.has(`${p.topic}/${p.partition}`));
      if (unset.length > 0) for (const b of await cluster.partitionBounds(unset)) forward.push({ topic: b.topic, partition: b.partition, offset: b.start });
      await cluster.commitGroupOffsets(group, forward);
      groups[group] = forward.length;
      if (forward.length > 0) this.args.metrics.add(restoreMetrics.groupOffsets, forward.length, { group });
    }
    this.figures = { snapshot_taken_at: new Date(found.snapshot.takenAt).toISOString(), synced_at: new Date().toISOString(), groups };
  }
}
