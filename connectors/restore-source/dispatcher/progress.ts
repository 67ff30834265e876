import type { TaskLogger, TaskStateStore } from '../../../runtime/api/index.js';
import type { BadObjectReport } from '../bad-object.js';

/** Task-state key of a dispatcher restore's progress. */
export const PROGRESS_KEY = 'dispatcher-restore';

/** How many partial failures the status lists (all are logged and counted). */
export const REPORTED_FAILURES = 50;

export interface StreamCounts {
  listed: number;
  posted: number;
  bad: number;
}

export interface EventCounts {
  /** Bundles done: posted (wholly or partly accepted), filtered or bad. */
  bundles: number;
  events_ok: number;
  events_failed: number;
  bundles_filtered: number;
  events_filtered: number;
  bad: number;
}

export interface Counts {
  streams: StreamCounts;
  events: EventCounts;
}

/** An event the dispatcher refused inside an accepted bulk (a partial failure). */
export interface FailureReport {
  key: string;
  error: string;
  /** The event's kafka_key, when the dispatcher echoed the event. */
  event?: string;
}

/** What became of one stream object. */
export type StreamOutcome = 'posted' | 'bad';

/** What became of one event bundle. */
export type BundleOutcome = { kind: 'posted'; ok: number; failed: number } | { kind: 'filtered'; events: number } | { kind: 'bad' };

/** The progress a restarted task resumes from; written to its task state as work is done. */
export interface SavedProgress {
  format: 'coldstore-dispatcher-restore-v1';
  /** The buckets restored from: progress through another backup does not count. */
  backup: string;
  /** Per source: every stream key (full key) at or before this one is done. */
  streams: Record<string, string>;
  /** Per `source/model/action`: the last bundle key (full key) done. */
  groups: Record<string, string>;
  /** The whole job's counts, over every run, for work recorded as done. */
  counts: Counts;
  /** The first bad objects skipped (counted in counts), for the status. */
  skipped: BadObjectReport[];
  failures: FailureReport[];
}

/**
 * A dispatcher restore task's `progress` (target=dispatcher) in its status and as its
 * FINISHED summary: this run's view of the job's counts, and the resume points saved.
 */
export type DispatcherTaskProgress =
  | { target: 'dispatcher'; phase: 'starting' }
  | {
      target: 'dispatcher';
      phase: 'streams' | 'events' | 'done';
      restore_type: string;
      streams: StreamCounts;
      events: EventCounts;
      bad_objects: number;
      skipped?: BadObjectReport[];
      failures?: FailureReport[];
      stream_watermarks: Record<string, string>;
      groups: Record<string, string>;
    };

export function emptyCounts(): Counts {
  return {
    streams: { listed: 0, posted: 0, bad: 0 },
    events: { bundles: 0, events_ok: 0, events_failed: 0, bundles_filtered: 0, events_filtered: 0, bad: 0 },
  };
}

export function countStream(counts: Counts, outcome: StreamOutcome): void {
  counts.streams.listed++;
  counts.streams[outcome]++;
}

export function countBundle(counts: Counts, outcome: BundleOutcome): void {
  const events = counts.events;
  events.bundles++;
  if (outcome.kind === 'posted') {
    events.events_ok += outcome.ok;
    events.events_failed += outcome.failed;
  } else if (outcome.kind === 'filtered') {
    events.bundles_filtered++;
    events.events_filtered += outcome.events;
  } else {
    events.bad++;
  }
}

/**
 * A dispatcher restore's durable progress. Changes are applied at once and written in
 * the order made, each write holding every change before it; `update` resolves once
 * its change is durable.
 */
export class ProgressStore {
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly state: TaskStateStore,
    readonly saved: SavedProgress,
  ) {}

  /** The progress saved for this backup, or a fresh one (progress through another backup is set aside). */
  static async open(state: TaskStateStore, backup: string, log: TaskLogger): Promise<ProgressStore> {
    const saved = await state.get<SavedProgress>(PROGRESS_KEY);
    if (saved?.format === 'coldstore-dispatcher-restore-v1' && saved.backup === backup) return new ProgressStore(state, saved);
    if (saved) log.info({ was: saved.backup, now: backup }, 'the saved restore progress is for another backup; starting from the beginning');
    return new ProgressStore(state, {
      format: 'coldstore-dispatcher-restore-v1',
      backup,
      streams: {},
      groups: {},
      counts: emptyCounts(),
      skipped: [],
      failures: [],
    });
  }

  update(change: (saved: SavedProgress) => void): Promise<void> {
    change(this.saved);
    const snapshot = structuredClone(this.saved);
    const write = this.writing.catch(() => undefined).then(() => this.state.put(PROGRESS_KEY, snapshot));
    this.writing = write;
    return write;
  }

  /** Adds partial-failure reports (the first REPORTED_FAILURES of the job), saved with the next update. */
  addFailures(reports: readonly FailureReport[]): void {
    const list = this.saved.failures;
    for (const r of reports) {
      if (list.length >= REPORTED_FAILURES) return;
      if (!list.some((f) => f.key === r.key && f.error === r.error && f.event === r.event)) list.push(r);
    }
  }
}
