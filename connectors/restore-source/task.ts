import {
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
import { BadObjects } from './bad-object.js';
import { restoreMetrics } from './metrics.js';
import { OffsetsPhase } from './offsets-phase.js';
import { PartitionCursor, type ResumePoint } from './partition-cursor.js';
import { plannedWork } from './planned-work.js';
import { RecordsTally, type RestorePhase, type RestoreTaskProgress } from './progress.js';
import { openRestoreJob, type RestoreJob } from './restore-job.js';
import { storedPosition, toSourceRecord } from './source-offsets.js';
import { RecordBatcher } from './record-batch.js';

/**
 * Restores its share of a backup's partitions into Kafka, one partition after another,
 * bundle by bundle in offset order (the records phase), then hands over to the offsets
 * phase. A record's source offset says where it is in the backup, so a restarted task
 * resumes in the bundle it stopped in.
 */
export class RestoreSourceTask implements SourceTask {
  private context!: SourceTaskContext;
  private job!: RestoreJob;
  private offsetsPhase!: OffsetsPhase;
  private tally: RecordsTally | undefined;
  private badObjects: BadObjects | undefined;
  private phase: RestorePhase = 'records';
  /** Where each partition stopped in an earlier run, from the offsets read at start. */
  private readonly resumes = new Map<string, ResumePoint>();
  /** What this run has left to read, once listed (for progress and an ETA). */
  private planned: { objects: number; bytes: number } | undefined;
  /** The partition being restored: index into the job's partitions, and its cursor once opened. */
  private index = 0;
  private cursor: PartitionCursor | undefined;
  private handedOut = 0;
  private acknowledged = 0;
  /** An empty poll was answered after every record was acknowledged (see poll). */
  private settleAsked = false;
  private readonly batcher = new RecordBatcher((max) => this.nextSlice(max));

  async start(config: RawConfig, context: SourceTaskContext): Promise<void> {
    this.context = context;
    const job = await openRestoreJob(config, context);
    this.job = job;
    this.badObjects = new BadObjects(job.settings['on.bad.object'], context.metrics, context.log);
    const stored = await context.offsets();
    const positions = job.partitions.map((tp) => ({ tp, target: job.targets.get(tp.topic)!.target.topic, stored: storedPosition(stored, tp) }));
    for (const { tp, stored: position } of positions) if (position.resume) this.resumes.set(tpKey(tp), position.resume);
    // Counts carry over from earlier runs of this restore, so the final figures are the whole job's.
    this.tally = new RecordsTally(positions);
    this.phase = job.settings['restore.phases'].includes('records') ? 'records' : 'offsets';
    this.offsetsPhase = await OffsetsPhase.open(job, context, stored);
    if (this.phase === 'records') this.listPlannedWork();
  }

  /** Lists in the background what this run has left to read; progress works without it meanwhile. */
  private listPlannedWork(): void {
    const scopes = this.job.partitions.map((tp) => {
      const key = tpKey(tp);
      const { fromOffset, untilOffset } = this.job.bounds.get(key)!;
      const resumeKey = this.resumes.get(key)?.key;
      const objects = this.job.plan?.ranges.get(key)?.objects;
      return {
        ...tp,
        ...(fromOffset !== undefined ? { fromOffset } : {}),
        ...(untilOffset !== undefined ? { untilOffset } : {}),
        ...(resumeKey ? { resumeKey } : {}),
        ...(objects ? { objects } : {}),
      };
    });
    plannedWork(this.job.store, this.job.location, scopes).then(
      (planned) => (this.planned = planned),
      (err: unknown) => this.context.log.debug({ reason: (err as Error).message }, 'could not list the work ahead; progress shows no total'),
    );
  }

  async poll(): Promise<PollResult> {
    if (this.phase === 'records') {
      const records = await this.batcher.next(this.job.settings['poll.max.records']);
      if (records.length > 0) {
        this.handedOut += records.length;
        return { records };
      }
      // Everything is handed out; wait until Kafka has it all and its offsets are persisted before
      // saying so. A transactional runtime polls while the last transaction commits (delivered()
      // comes before the commit), but after an empty poll it waits for that commit.
      if (this.acknowledged < this.handedOut || (this.context.transactional && !this.settleAsked)) {
        this.settleAsked = true;
        return { records: [] };
      }
      await this.offsetsPhase.recordsDone();
      this.phase = 'offsets';
    }
    if (this.phase === 'offsets') {
      if (!(await this.offsetsPhase.run())) return { records: [] };
      this.phase = 'done';
    }
    return { done: true, summary: this.progress() };
  }

  private async nextSlice(max: number): Promise<SourceRecord[]> {
    const tally = this.tally!;
    while (this.index < this.job.partitions.length) {
      const cursor = (this.cursor ??= this.openCursor(this.job.partitions[this.index]!));
      const topic = cursor.tp.topic;
      if (cursor.needsBundle) {
        const started = performance.now();
        const bundle = await cursor.nextBundle();
        this.context.metrics.record(restoreMetrics.fetchSeconds, (performance.now() - started) / 1000, { topic });
        if (!bundle) {
          tally.partitionDone(cursor.tp);
          this.cursor = undefined;
          this.index++;
          continue;
        }
        tally.bundleRead(cursor.tp, bundle.bytes);
        this.context.metrics.add(restoreMetrics.objects, 1, { topic });
        this.context.metrics.add(restoreMetrics.bytes, bundle.bytes, { topic });
        continue;
      }
      const { key, records } = cursor.take(max);
      const target = this.job.targets.get(topic)!.target;
      const before = tally.recordsHandedOut(cursor.tp, records.length, records[records.length - 1]!.offset);
      this.context.metrics.add(restoreMetrics.records, records.length, { topic });
      return records.map((r, i) => toSourceRecord(r, cursor.sourcePartition, { key, offset: Number(r.offset), records: before + i + 1 }, target));
    }
    return [];
  }

  private openCursor(tp: TopicPartition): PartitionCursor {
    const key = tpKey(tp);
    return new PartitionCursor({
      store: this.job.store,
      location: this.job.location,
      tp,
      bounds: this.job.bounds.get(key)!,
      resume: this.resumes.get(key),
      objects: this.job.plan?.ranges.get(key)?.objects,
      fetchAhead: this.job.settings['fetch.max.in.flight'],
      onBadObject: (err) => this.badObjects!.handle(err),
    });
  }

  delivered(records: readonly SourceRecord[], placements: readonly RecordPlacement[]): SourceOffsetEntry[] {
    this.acknowledged += records.length;
    return this.offsetsPhase.delivered(records, placements);
  }

  progress(): RestoreTaskProgress {
    // The status may ask before start() has opened the job.
    const figures = this.tally?.figures() ?? { records: 0, objects: 0, bytes: 0, partitions: {} };
    const groups = this.offsetsPhase?.groupsCommitted;
    return {
      phase: this.phase,
      records: figures.records,
      objects: figures.objects,
      bytes: figures.bytes,
      ...(this.planned ? { planned: this.planned } : {}),
      ...(this.job?.plan ? { backup_id: this.job.plan.backupId } : {}),
      bad_objects: this.badObjects?.count ?? 0,
      ...(this.badObjects?.reported.length ? { skipped: this.badObjects.reported } : {}),
      partitions: figures.partitions,
      ...(groups ? { groups } : {}),
    };
  }

  async stop(): Promise<void> {}
}
