import {
  ColdstoreError,
  ErrorCodes,
  type RecordPlacement,
  type SourceOffsetEntry,
  type SourceRecord,
  type SourceTaskContext,
} from '../../runtime/api/index.js';
import { retryTransient } from '../common/object-store/object-store.js';
import { commitTranslatedOffsets, placementsFrom, PlacementTracker, plannedGroups } from './group-offsets.js';
import { restoreMetrics } from './metrics.js';
import type { RestoreJob } from './restore-job.js';
import { recordsRestoredBefore } from './source-offsets.js';

/** How often task 0 looks whether every task has restored its records. */
const WAIT_CHECK_MS = 1_000;

/**
 * The consumer-group side of a restore: while records are restored it notes where each
 * group's next record landed (placements, persisted with the records' offsets); once
 * every task has restored its records, task 0 translates the groups' backed-up offsets
 * with those placements and commits them on the target.
 */
export class OffsetsPhase {
  private committed: Record<string, number> | undefined;
  private nextWaitCheck = 0;

  private constructor(
    private readonly job: RestoreJob,
    private readonly context: SourceTaskContext,
    private readonly groups: Map<string, Map<string, bigint>>,
    private readonly tracker: PlacementTracker | undefined,
    /** Whether this run restores records; false with restore.phases=offsets. */
    private readonly recordsRan: boolean,
  ) {}

  /** The groups to translate (fixed by the restore's first run) and the placements recorded so far. */
  static async open(job: RestoreJob, context: SourceTaskContext, stored: SourceOffsetEntry[]): Promise<OffsetsPhase> {
    const { settings, store, location } = job;
    const phases = settings['restore.phases'];
    const recordsRan = phases.includes('records');
    const restoredBefore = recordsRestoredBefore(stored);
    if (!recordsRan && settings.groups.length > 0 && !restoredBefore) {
      throw new ColdstoreError(
        ErrorCodes.CONFIG_INVALID,
        'restore.phases=offsets needs to know where this connector restored the records, and it has restored none: run it with restore.phases=records,offsets.',
      );
    }
    const groups = await retryTransient('read the consumer-group snapshot', () =>
      plannedGroups({
        state: context.connectorState,
        store,
        location,
        at: job.untilTimestamp,
        wanted: phases.includes('offsets') ? settings.groups : [],
        restoringRecords: recordsRan,
        recordsRestoredBefore: restoredBefore,
        fixed: job.plan?.groupSnapshot,
      }),
    );
    if (phases.includes('offsets') && settings.groups.length > 0 && groups.size === 0) {
      context.log.warn({ bucket: location.bucket, groups: settings.groups }, 'the backup holds no offsets of these consumer groups; none will be restored');
    }
    const tracker = groups.size > 0 ? new PlacementTracker(groups, job.targets, placementsFrom(stored)) : undefined;
    return new OffsetsPhase(job, context, groups, tracker, recordsRan);
  }

  /** Placements of delivered records, to persist with their offsets. */
  delivered(records: readonly SourceRecord[], placements: readonly RecordPlacement[]): SourceOffsetEntry[] {
    return this.tracker?.active ? this.tracker.delivered(records, placements) : [];
  }

  /** Tells task 0 that this task's records of this run are all in Kafka. */
  async recordsDone(): Promise<void> {
    await this.context.connectorState.put(`records-done/${this.context.taskId}`, { at: new Date().toISOString(), run: this.job.runId });
  }

  /** Commits the translated offsets (task 0 only); false while other tasks are still restoring records. */
  async run(): Promise<boolean> {
    if (this.context.taskId !== 0 || this.groups.size === 0) return true;
    if (this.recordsRan && !(await this.allTasksRestoredRecords())) return false;
    this.committed = await commitTranslatedOffsets({
      cluster: this.context.cluster,
      groups: this.groups,
      targets: this.job.targets,
      placements: placementsFrom(await this.context.offsets()),
      log: this.context.log,
    });
    for (const [group, count] of Object.entries(this.committed)) this.context.metrics.add(restoreMetrics.groupOffsets, count, { group });
    return true;
  }

  /** Partition offsets committed per group, once committed. */
  get groupsCommitted(): Record<string, number> | undefined {
    return this.committed;
  }

  /** The translation uses every task's placements, so it waits for all of them. */
  private async allTasksRestoredRecords(): Promise<boolean> {
    if (Date.now() < this.nextWaitCheck) return false;
    this.nextWaitCheck = Date.now() + WAIT_CHECK_MS;
    for (let task = 0; task < this.job.taskCount; task++) {
      const marker = await this.context.connectorState.get<{ run?: string }>(`records-done/${task}`);
      if (marker?.run !== this.job.runId) return false;
    }
    return true;
  }
}
