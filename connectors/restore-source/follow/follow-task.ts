import {
  ConfigError,
  type PollResult,
  type RawConfig,
  type RecordPlacement,
  type SourceOffsetEntry,
  type SourceRecord,
  type SourceTask,
  type SourceTaskContext,
} from '../../../runtime/api/index.js';
import { eventsLocation, type BackupLocation } from '../../common/backup-location.js';
import { retryTransient, type ObjectStore } from '../../common/object-store/object-store.js';
import { createObjectStore } from '../../common/object-store/store-config.js';
import { firstBackedUpOffset } from '../backed-up-topics.js';
import { BadObjects } from '../bad-object.js';
import { restoreSourceConfig, TASK_COUNT_KEY, type RestoreSourceSettings } from '../config.js';
import { restoreMetrics } from '../metrics.js';
import { PartitionCursor } from '../partition-cursor.js';
import type { RestoreTaskProgress } from '../progress.js';
import { storedPosition, toSourceRecord } from '../source-offsets.js';
import { FollowScope } from './follow-scope.js';
import { FollowedPartition, type FollowedPartitionProgress } from './follow-progress.js';
import { GroupSync, type GroupSyncFigures } from './group-sync.js';
import { SyncPoints } from './sync-points.js';
import { RecordBatcher } from '../record-batch.js';

/** The longest a poll with nothing to restore waits, so the runtime can stop or pause the task promptly. */
const IDLE_WAIT_MS = 500;
const GAUGES_EVERY_MS = 1_000;
/**
 * Bundles a partition with a backlog restores before it lets another partition that is
 * due have a turn: no partition waits behind another's catch-up. Its fetched-ahead
 * bundles are dropped (fetched again on its next turn), so memory stays one partition's.
 */
const TURN_BUNDLES = 16;

/** A follow-mode task's status: the records phase's figures per partition with the standby's recovery point. */
export type FollowTaskProgress = Omit<RestoreTaskProgress, 'partitions'> & {
  partitions: Record<string, FollowedPartitionProgress>;
  follow: { discovered_at?: string; groups?: GroupSyncFigures };
};

/**
 * restore.mode=follow: a warm standby. Restores its share of the backed-up partitions
 * (followerOf) like a one-time restore — bundle by bundle, resuming in the bundle it
 * stopped in — and then keeps going: a caught-up partition lists the backup again every
 * follow.interval.ms (StartAfter its last bundle), new topics and partitions are picked
 * up every follow.discovery.interval.ms, and the chosen consumer groups are synced
 * every follow.groups.interval.ms. It never finishes; stopping the connector is failover.
 */
export class FollowTask implements SourceTask {
  private context!: SourceTaskContext;
  private settings!: RestoreSourceSettings;
  private store!: ObjectStore;
  private location!: BackupLocation;
  private scope!: FollowScope;
  private points!: SyncPoints;
  private groupSync: GroupSync | undefined;
  private badObjects: BadObjects | undefined;
  private stored: SourceOffsetEntry[] = [];
  private readonly followed = new Map<string, FollowedPartition>();
  /** Partitions in the order they take turns; the current one is restored until it has caught up. */
  private order: FollowedPartition[] = [];
  private turn = 0;
  private turnBundles = 0;
  private read = { objects: 0, bytes: 0 };
  private nextDiscovery = 0;
  private discoveredAt: number | undefined;
  private nextGroupSync = 0;
  private groupSyncRunning: Promise<void> | undefined;
  private nextGauges = 0;
  private readonly batcher = new RecordBatcher((max) => this.nextSlice(max));

  async start(config: RawConfig, context: SourceTaskContext): Promise<void> {
    this.context = context;
    const { values, errors } = restoreSourceConfig.validate(config);
    if (errors.length > 0) throw new ConfigError(errors, 'RestoreSource config');
    this.settings = values;
    this.store = createObjectStore(values);
    this.location = eventsLocation(values);
    this.badObjects = new BadObjects(values['on.bad.object'], context.metrics, context.log);
    this.stored = await context.offsets();
    this.points = new SyncPoints(this.stored);
    const { cluster, log, metrics } = context;
    this.scope = new FollowScope({
      settings: values,
      store: this.store,
      location: this.location,
      cluster,
      log,
      taskId: context.taskId,
      taskCount: Number(config[TASK_COUNT_KEY] ?? '1'),
    });
    if (values.groups.length > 0) {
      this.groupSync = new GroupSync({ wanted: values.groups, cluster, store: this.store, location: this.location, points: this.points, log, metrics });
    }
    await this.discover();
  }

  /** Lists the backup for this task's partitions; opens a cursor for each new one, resuming where an earlier run stopped. */
  private async discover(): Promise<void> {
    const mine = await retryTransient('list the backed-up topics to follow', () => this.scope.discover());
    for (const { topic, partition, target } of mine) {
      const key = `${topic}/${partition}`;
      const known = this.followed.get(key);
      if (known) {
        known.targetTopic = target.topic;
        continue;
      }
      const tp = { topic, partition };
      const stored = storedPosition(this.stored, tp);
      // Bundles of a partition land in any order: without a resume point, where its backup starts says what to wait for.
      const expectedFirst = stored.resume
        ? undefined
        : await retryTransient(`read where the backup of ${key} starts`, () => firstBackedUpOffset(this.store, this.location, tp));
      const cursor = new PartitionCursor({
        store: this.store,
        location: this.location,
        tp,
        bounds: {},
        resume: stored.resume,
        fetchAhead: this.settings['fetch.max.in.flight'],
        gapWaitMs: this.settings['follow.gap.timeout.ms'],
        expectedFirst,
        onBadObject: (err) => this.badObjects!.handle(err),
      });
      this.followed.set(key, new FollowedPartition(cursor, target.topic, stored));
      if (this.discoveredAt !== undefined) this.context.log.info({ topic, partition, target: target.topic }, 'following a new backed-up partition');
    }
    this.order = [...this.followed.values()];
    this.discoveredAt = Date.now();
    this.nextDiscovery = this.discoveredAt + this.settings['follow.discovery.interval.ms'];
  }

  async poll(): Promise<PollResult> {
    const now = Date.now();
    if (now >= this.nextDiscovery) await this.discover();
    this.startGroupSync(now);
    if (now >= this.nextGauges) {
      this.nextGauges = now + GAUGES_EVERY_MS;
      for (const f of this.order) f.report(this.context.metrics, now);
    }
    const records = await this.batcher.next(this.settings['poll.max.records']);
    if (records.length > 0) return { records };
    const soonest = Math.min(this.nextDiscovery, ...this.order.map((f) => f.idleUntil));
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(IDLE_WAIT_MS, soonest - Date.now()))));
    return { records: [] };
  }

  /** Runs a group sync in the background when one is due; a failed one is logged and tried at the next interval. */
  private startGroupSync(now: number): void {
    if (!this.groupSync || this.groupSyncRunning || now < this.nextGroupSync) return;
    this.nextGroupSync = now + this.settings['follow.groups.interval.ms'];
    const followed = this.order.map((f) => ({ ...f.sourcePartition, target: this.scope.targetOf(f.sourcePartition.topic)! }));
    this.groupSyncRunning = this.groupSync
      .sync(followed)
      .catch((err: unknown) =>
        this.context.log.warn({ reason: (err as Error).message }, 'could not sync consumer-group offsets; trying again at the next interval'),
      )
      .finally(() => (this.groupSyncRunning = undefined));
  }

  /** Records of the partition whose turn it is; a caught-up one rests until its next listing and the turn moves on. */
  private async nextSlice(max: number): Promise<SourceRecord[]> {
    for (let rested = 0; rested < this.order.length;) {
      const f = this.order[this.turn % this.order.length]!;
      if (Date.now() < f.idleUntil) {
        this.nextTurn();
        rested++;
        continue;
      }
      const { cursor } = f;
      const topic = cursor.tp.topic;
      if (cursor.needsBundle) {
        if (this.turnBundles >= TURN_BUNDLES && this.order.some((o) => o !== f && Date.now() >= o.idleUntil)) {
          cursor.follow.relist();
          this.nextTurn();
          continue;
        }
        const bundle = await cursor.nextBundle();
        if (!bundle) {
          cursor.follow.relist();
          f.idleUntil = Date.now() + this.settings['follow.interval.ms'];
          this.nextTurn();
          rested++;
          continue;
        }
        this.turnBundles++;
        f.objects++;
        this.read.objects++;
        this.read.bytes += bundle.bytes;
        this.context.metrics.add(restoreMetrics.objects, 1, { topic });
        this.context.metrics.add(restoreMetrics.bytes, bundle.bytes, { topic });
        continue;
      }
      const { key, records } = cursor.take(max);
      if (records.length === 0) continue;
      const target = this.scope.targetOf(topic)!;
      const before = f.handedOut(records.length, records[records.length - 1]!.offset);
      this.context.metrics.add(restoreMetrics.records, records.length, { topic });
      return records.map((r, i) => {
        const offset = { key, offset: Number(r.offset), records: before + i + 1, ...(r.timestamp >= 0 ? { timestamp: r.timestamp } : {}) };
        return toSourceRecord(r, cursor.sourcePartition, offset, target);
      });
    }
    return [];
  }

  private nextTurn(): void {
    this.turn++;
    this.turnBundles = 0;
  }

  delivered(records: readonly SourceRecord[], placements: readonly RecordPlacement[]): SourceOffsetEntry[] {
    let followed: FollowedPartition | undefined;
    for (const record of records) {
      if (followed?.sourcePartition !== record.sourcePartition)
        followed = this.followed.get(`${record.sourcePartition['topic']}/${record.sourcePartition['partition']}`);
      followed?.restored(record);
    }
    return this.points.delivered(records, placements);
  }

  progress(): FollowTaskProgress {
    const now = Date.now();
    const partitions = Object.fromEntries(this.order.map((f) => [f.key, f.progress(now)]));
    return {
      phase: 'following',
      records: this.order.reduce((n, f) => n + f.records, 0),
      objects: this.read.objects,
      bytes: this.read.bytes,
      bad_objects: this.badObjects?.count ?? 0,
      ...(this.badObjects?.reported.length ? { skipped: this.badObjects.reported } : {}),
      partitions,
      follow: {
        ...(this.discoveredAt !== undefined ? { discovered_at: new Date(this.discoveredAt).toISOString() } : {}),
        ...(this.groupSync ? { groups: this.groupSync.status } : {}),
      },
    };
  }

  async stop(): Promise<void> {
    await this.groupSyncRunning;
  }
}
