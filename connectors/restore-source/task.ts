import { createHash } from 'node:crypto';
import {
  ColdstoreError,
  ConfigError,
  ErrorCodes,
  tpKey,
  type PollResult,
  type RawConfig,
  type RecordPlacement,
  type SourceOffsetEntry,
  type SourceRecord,
  type SourceTask,
  type SourceTaskContext,
  type TopicPartition,
} from '../../runtime/api/index.js';
import { eventsLocation, type Location } from '../shared/backup-location.js';
import type { BackedUpRecord } from '../layouts/kafka-v1/bundle-codec.js';
import { createObjectStore } from '../shared/object-store/store-config.js';
import { retryTransient, type ObjectStore } from '../shared/object-store/object-store.js';
import { BadObjects } from './bad-object.js';
import type { FetchedBundle } from './bundle-fetch.js';
import { parseInstant, restoreSourceConfig, TASK_COUNT_KEY, TASK_PARTITIONS_KEY, TOPIC_PARTITIONS_KEY, type RestoreSourceSettings } from './config.js';
import { loadBackupPlan, type BackupPlan } from './backup-plan.js';
import { plannedWork } from './planned-work.js';
import { commitTranslatedOffsets, placementsFrom, PlacementTracker, plannedGroups } from './group-offsets.js';
import { restoreMetrics } from './metrics.js';
import { PartitionReader } from './partition-reader.js';
import { prepareTarget, targetPartition, type TopicTarget } from './targets.js';

interface PartitionProgress {
  target: string;
  records: number;
  objects: number;
  last_offset: number | null;
  done: boolean;
}

interface Cursor {
  tp: TopicPartition;
  /** Shared by every record of the partition. */
  sourcePartition: { topic: string; partition: number };
  reader: PartitionReader;
  bundle: FetchedBundle | undefined;
  position: number;
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

/**
 * Restores its share of a backup's partitions into Kafka, bundle by bundle in
 * offset order, then (task 0, once every task is done) commits the chosen
 * consumer groups' translated offsets. Progress is the source offset of each
 * record: the bundle key and the record's original offset.
 */
export class RestoreSourceTask implements SourceTask {
  private settings!: RestoreSourceSettings;
  private context!: SourceTaskContext;
  private store!: ObjectStore;
  private location!: Location;
  private partitions: TopicPartition[] = [];
  private readonly targets = new Map<string, { sourcePartitions: number; target: TopicTarget }>();
  private untilTimestamp: number | undefined;
  private readonly untilOffsets = new Map<string, bigint>();
  private readonly fromOffsets = new Map<string, bigint>();
  private plan: BackupPlan | undefined;
  /** What this run has left to read, once listed (for progress and an ETA). */
  private planned: { objects: number; bytes: number } | undefined;
  private groups = new Map<string, Map<string, bigint>>();
  private tracker: PlacementTracker | undefined;
  private phase: 'records' | 'offsets' | 'done' = 'records';
  private index = 0;
  private cursor: Cursor | undefined;
  private readonly perPartition = new Map<string, PartitionProgress>();
  /** Where each partition stopped in an earlier run (bundle key and record offset), from the offsets read at start. */
  private readonly resumes = new Map<string, { key: string; offset: bigint }>();
  /** Bundles and bytes read by this run (records are counted per partition across runs). */
  private readonly totals = { objects: 0, bytes: 0 };
  private badObjects!: BadObjects;
  private handedOut = 0;
  private acknowledged = 0;
  private taskCount = 1;
  private recordsRan = false;
  private groupsCommitted: Record<string, number> | undefined;
  private nextWaitCheck = 0;
  private deferredError: unknown;
  /** Identifies this run of the job (the config every task shares), so markers of an earlier run do not count. */
  private runId = '';

  async start(config: RawConfig, context: SourceTaskContext): Promise<void> {
    const { values, errors } = restoreSourceConfig.validate(config);
    if (errors.length > 0) throw new ConfigError(errors, 'RestoreSource config');
    this.settings = values;
    this.context = context;
    this.badObjects = new BadObjects(values['on.bad.object'], context.metrics, context.log);
    this.store = createObjectStore(values);
    this.location = eventsLocation(values);
    const until = values['restore.until.timestamp'];
    this.untilTimestamp = until === undefined ? undefined : parseInstant(until);
    for (const entry of values['restore.until.offsets']) {
      const [topic, partition, offset] = entry.split(':');
      this.untilOffsets.set(tpKey({ topic: topic!, partition: Number(partition) }), BigInt(offset!));
    }
    const backupId = values['restore.backup.id'];
    if (backupId !== undefined) {
      const plan = await retryTransient(`read the manifest of backup ${backupId}`, () => loadBackupPlan(this.store, this.location, backupId, values.topics));
      for (const [key, range] of plan.ranges) {
        this.fromOffsets.set(key, range.start);
        this.untilOffsets.set(key, range.end - 1n);
      }
      this.plan = plan;
    }
    this.taskCount = Number(config[TASK_COUNT_KEY] ?? '1');
    const shared = Object.entries(config).filter(([k]) => k !== TASK_PARTITIONS_KEY).sort(([a], [b]) => (a < b ? -1 : 1));
    this.runId = createHash('sha256').update(JSON.stringify(shared)).digest('hex').slice(0, 16);
    this.partitions = parsePairs(config[TASK_PARTITIONS_KEY]).map(([topic, partition]) => ({ topic, partition }));
    for (const [source, sourcePartitions] of parsePairs(config[TOPIC_PARTITIONS_KEY])) {
      const target = await retryTransient(`prepare the target of ${source}`, () =>
        prepareTarget({ settings: values, cluster: context.cluster, store: this.store, location: this.location, source, sourcePartitions, log: context.log, metadata: this.plan?.topics[source] }),
      );
      this.targets.set(source, { sourcePartitions, target });
    }
    const phases = values['restore.phases'];
    const stored = await context.offsets();
    for (const tp of this.partitions) {
      // Counts carry over from earlier runs of this restore, so the final figures are the whole job's.
      const resumed = stored.find((e) => e.partition['kind'] === undefined && e.partition['topic'] === tp.topic && e.partition['partition'] === tp.partition)?.offset;
      if (resumed && typeof resumed['key'] === 'string') this.resumes.set(tpKey(tp), { key: resumed['key'], offset: BigInt(resumed['offset'] as number) });
      this.perPartition.set(tpKey(tp), {
        target: this.targets.get(tp.topic)!.target.topic,
        records: Number(resumed?.['records'] ?? 0),
        objects: 0,
        last_offset: resumed ? Number(resumed['offset']) : null,
        done: false,
      });
    }
    this.phase = phases.includes('records') ? 'records' : 'offsets';
    this.recordsRan = this.phase === 'records';
    const recordsRestoredBefore = stored.some((e) => e.partition['kind'] === undefined);
    if (!this.recordsRan && values.groups.length > 0 && !recordsRestoredBefore) {
      throw new ColdstoreError(
        ErrorCodes.CONFIG_INVALID,
        'restore.phases=offsets needs to know where this connector restored the records, and it has restored none: run it with restore.phases=records,offsets.',
      );
    }
    this.groups = await retryTransient('read the consumer-group snapshot', () =>
      plannedGroups({
        state: context.connectorState,
        store: this.store,
        location: this.location,
        at: this.untilTimestamp,
        wanted: phases.includes('offsets') ? values.groups : [],
        restoringRecords: this.recordsRan,
        recordsRestoredBefore,
        fixed: this.plan?.groupSnapshot,
      }),
    );
    if (phases.includes('offsets') && values.groups.length > 0 && this.groups.size === 0) {
      context.log.warn({ bucket: this.location.bucket, groups: values.groups }, 'the backup holds no offsets of these consumer groups; none will be restored');
    }
    if (this.groups.size > 0) this.tracker = new PlacementTracker(this.groups, this.targets, placementsFrom(stored));
    if (this.recordsRan) this.listPlannedWork();
  }

  /** Lists in the background what this run has left to read; progress works without it meanwhile. */
  private listPlannedWork(): void {
    const scopes = this.partitions.map((tp) => {
      const key = tpKey(tp);
      const from = this.fromOffsets.get(key);
      const until = this.untilOffsets.get(key);
      const resumeKey = this.resumes.get(key)?.key;
      const objects = this.plan?.ranges.get(key)?.objects;
      return {
        ...tp,
        ...(from !== undefined ? { fromOffset: from } : {}),
        ...(until !== undefined ? { untilOffset: until } : {}),
        ...(resumeKey ? { resumeKey } : {}),
        ...(objects ? { objects } : {}),
      };
    });
    plannedWork(this.store, this.location, scopes).then(
      (planned) => (this.planned = planned),
      (err: unknown) => this.context.log.debug({ reason: (err as Error).message }, 'could not list the work ahead; progress shows no total'),
    );
  }

  async poll(): Promise<PollResult> {
    if (this.phase === 'records') {
      const records = await this.nextRecords();
      if (records.length > 0) {
        this.handedOut += records.length;
        return { records };
      }
      // Everything is handed out; wait until Kafka has it all before saying so.
      if (this.acknowledged < this.handedOut) return { records: [] };
      await this.context.connectorState.put(`records-done/${this.context.taskId}`, { at: new Date().toISOString(), run: this.runId });
      this.phase = 'offsets';
    }
    if (this.phase === 'offsets') {
      if (this.context.taskId === 0 && this.groups.size > 0) {
        if (this.recordsRan && !(await this.allTasksRestoredRecords())) return { records: [] };
        this.groupsCommitted = await commitTranslatedOffsets({
          cluster: this.context.cluster,
          groups: this.groups,
          targets: this.targets,
          placements: placementsFrom(await this.context.offsets()),
          log: this.context.log,
        });
        for (const [group, count] of Object.entries(this.groupsCommitted)) this.context.metrics.add(restoreMetrics.groupOffsets, count, { group });
      }
      this.phase = 'done';
    }
    return { done: true, summary: this.progress() };
  }

  /** The offsets phase translates with every task's placements, so it waits for all of them. */
  private async allTasksRestoredRecords(): Promise<boolean> {
    if (Date.now() < this.nextWaitCheck) return false;
    this.nextWaitCheck = Date.now() + 1_000;
    for (let task = 0; task < this.taskCount; task++) {
      const marker = await this.context.connectorState.get<{ run?: string }>(`records-done/${task}`);
      if (marker?.run !== this.runId) return false;
    }
    return true;
  }

  /**
   * Up to poll.max.records records, across bundles and partitions: fewer, larger batches
   * (and transactions). The readers have moved past what is collected, so an error met
   * after some records were collected is raised at the next poll, once those are handed out.
   */
  private async nextRecords(): Promise<SourceRecord[]> {
    if (this.deferredError) {
      const err = this.deferredError;
      this.deferredError = undefined;
      throw err;
    }
    const max = this.settings['poll.max.records'];
    const out: SourceRecord[] = [];
    while (out.length < max) {
      let slice: SourceRecord[];
      try {
        slice = await this.nextSlice(max - out.length);
      } catch (err) {
        if (out.length === 0) throw err;
        this.deferredError = err;
        break;
      }
      if (slice.length === 0) break;
      for (const r of slice) out.push(r);
    }
    return out;
  }

  private async nextSlice(max: number): Promise<SourceRecord[]> {
    while (this.index < this.partitions.length) {
      const cursor = (this.cursor ??= this.openCursor(this.partitions[this.index]!));
      if (!cursor.bundle || cursor.position >= cursor.bundle.records.length) {
        const started = performance.now();
        const bundle = await cursor.reader.next();
        this.context.metrics.record(restoreMetrics.fetchSeconds, (performance.now() - started) / 1000, { topic: cursor.tp.topic });
        const progress = this.perPartition.get(tpKey(cursor.tp))!;
        if (!bundle) {
          progress.done = true;
          this.cursor = undefined;
          this.index++;
          continue;
        }
        this.totals.objects++;
        this.totals.bytes += bundle.bytes;
        progress.objects++;
        this.context.metrics.add(restoreMetrics.objects, 1, { topic: cursor.tp.topic });
        this.context.metrics.add(restoreMetrics.bytes, bundle.bytes, { topic: cursor.tp.topic });
        const until = this.untilTimestamp;
        cursor.bundle = until === undefined ? bundle : { ...bundle, records: bundle.records.filter((r) => r.timestamp <= until) };
        cursor.position = 0;
        continue;
      }
      const slice = cursor.bundle.records.slice(cursor.position, cursor.position + max);
      cursor.position += slice.length;
      const key = cursor.bundle.key.slice(this.location.prefix.length);
      const target = this.targets.get(cursor.tp.topic)!.target;
      const progress = this.perPartition.get(tpKey(cursor.tp))!;
      const before = progress.records;
      progress.records += slice.length;
      progress.last_offset = Number(slice[slice.length - 1]!.offset);
      this.context.metrics.add(restoreMetrics.records, slice.length, { topic: cursor.tp.topic });
      return slice.map((r, i) => this.toSourceRecord(r, cursor.sourcePartition, { key, offset: Number(r.offset), records: before + i + 1 }, target));
    }
    return [];
  }

  /** The source offset says where the record is in the backup and how many records of its partition are restored with it. */
  private toSourceRecord(
    r: BackedUpRecord,
    sourcePartition: Cursor['sourcePartition'],
    sourceOffset: { key: string; offset: number; records: number },
    target: TopicTarget,
  ): SourceRecord {
    return {
      sourcePartition,
      sourceOffset,
      topic: target.topic,
      partition: targetPartition(target, r.key, r.partition),
      // Without a timestamp the broker stamps the restore time.
      timestamp: r.timestampType !== 'NOT_AVAILABLE' && r.timestamp >= 0 ? r.timestamp : undefined,
      key: r.key,
      value: r.value,
      headers: r.headers,
    };
  }

  private openCursor(tp: TopicPartition): Cursor {
    const resume = this.resumes.get(tpKey(tp));
    const untilOffset = this.untilOffsets.get(tpKey(tp));
    const fromOffset = this.fromOffsets.get(tpKey(tp));
    const objects = this.plan?.ranges.get(tpKey(tp))?.objects;
    const reader = new PartitionReader({
      ...(objects ? { objects } : {}),
      store: this.store,
      location: this.location,
      tp,
      ...(resume ? { resume } : {}),
      ...(untilOffset !== undefined ? { untilOffset } : {}),
      ...(fromOffset !== undefined ? { fromOffset } : {}),
      fetchAhead: this.settings['fetch.max.in.flight'],
      onBadObject: (err) => this.badObjects.handle(err),
    });
    return { tp, sourcePartition: { topic: tp.topic, partition: tp.partition }, reader, bundle: undefined, position: 0 };
  }

  delivered(records: readonly SourceRecord[], placements: readonly RecordPlacement[]): SourceOffsetEntry[] {
    this.acknowledged += records.length;
    return this.tracker?.active ? this.tracker.delivered(records, placements) : [];
  }

  progress(): Record<string, unknown> {
    return {
      phase: this.phase,
      records: [...this.perPartition.values()].reduce((n, p) => n + p.records, 0),
      objects: this.totals.objects,
      bytes: this.totals.bytes,
      ...(this.planned ? { planned: this.planned } : {}),
      ...(this.plan ? { backup_id: this.plan.backupId } : {}),
      // The status may ask before start() has set badObjects.
      bad_objects: this.badObjects?.count ?? 0,
      ...(this.badObjects?.reported.length ? { skipped: this.badObjects.reported } : {}),
      partitions: Object.fromEntries(this.perPartition),
      ...(this.groupsCommitted ? { groups: this.groupsCommitted } : {}),
    };
  }

  async stop(): Promise<void> {}
}
