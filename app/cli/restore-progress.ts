import cliProgress from 'cli-progress';
import type { PartitionProgress, RestoreTaskProgress } from '../../connectors/restore-source/progress.js';
import type { TaskStatus } from '../../runtime/worker/task-status.js';
import { humanBytes } from '../../connectors/common/format-bytes.js';

/** The restore job's figures, summed over its tasks' `progress` (RestoreTaskProgress). */
export interface RestoreTotals {
  /** Records restored by the whole job, across runs. */
  records: number;
  /** Objects and bytes read by this run. */
  objects: number;
  bytes: number;
  badObjects: number;
  partitions: number;
  partitionsDone: number;
  /**
   * What this run had left to read when its tasks started; undefined until every task
   * reports it (older tasks never do, so everything here must work without it).
   */
  planned: { objects: number; bytes: number } | undefined;
  /** Whether any task of this run has started work (so there is something to show). */
  running: boolean;
}

/**
 * A task's progress as its status reports it: a RestoreTaskProgress's fields, each checked
 * before use, since a task of another connector, a dispatcher restore or an older
 * worker reports other shapes.
 */
type ProgressReport = { [K in keyof RestoreTaskProgress]?: unknown };

const count = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

function plannedOf(progress: ProgressReport | undefined): RestoreTaskProgress['planned'] {
  const planned = progress?.planned as { [K in keyof NonNullable<RestoreTaskProgress['planned']>]?: unknown } | undefined;
  if (typeof planned?.bytes !== 'number' || !Number.isFinite(planned.bytes)) return undefined;
  return { objects: count(planned.objects), bytes: planned.bytes };
}

export function restoreTotals(tasks: readonly TaskStatus[]): RestoreTotals {
  const totals: RestoreTotals = {
    records: 0,
    objects: 0,
    bytes: 0,
    badObjects: 0,
    partitions: 0,
    partitionsDone: 0,
    planned: { objects: 0, bytes: 0 },
    running: false,
  };
  for (const task of tasks) {
    const progress: ProgressReport | undefined = task.progress;
    if (task.state === 'RUNNING' && progress) totals.running = true;
    totals.records += count(progress?.records);
    totals.objects += count(progress?.objects);
    totals.bytes += count(progress?.bytes);
    totals.badObjects += count(progress?.bad_objects);
    const partitions = progress?.partitions;
    if (partitions && typeof partitions === 'object') {
      for (const partition of Object.values(partitions as Record<string, { [K in keyof PartitionProgress]?: unknown } | undefined>)) {
        totals.partitions++;
        if (partition?.done === true) totals.partitionsDone++;
      }
    }
    const planned = plannedOf(progress);
    if (planned && totals.planned) {
      totals.planned.objects += planned.objects;
      totals.planned.bytes += planned.bytes;
    } else {
      totals.planned = undefined;
    }
  }
  if (tasks.length === 0) totals.planned = undefined;
  return totals;
}

export const formatBytes = humanBytes;

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The share of the planned bytes read so far, capped: a resumed bundle is read again, so bytes can pass the plan. */
function fractionDone(totals: RestoreTotals): number | undefined {
  if (!totals.planned) return undefined;
  if (totals.planned.bytes <= 0) return 1;
  return Math.min(1, totals.bytes / totals.planned.bytes);
}

/** Seconds left at this run's average rate so far; undefined until there is a rate. */
export function etaSeconds(totals: RestoreTotals, elapsedMs: number): number | undefined {
  if (!totals.planned || totals.bytes <= 0 || elapsedMs <= 0) return undefined;
  const remaining = Math.max(0, totals.planned.bytes - totals.bytes);
  return remaining / (totals.bytes / (elapsedMs / 1000));
}

function counts(totals: RestoreTotals, separator = ', '): string {
  return [
    `${totals.records} records`,
    `${totals.objects} objects`,
    `${totals.partitionsDone}/${totals.partitions} partitions done`,
    ...(totals.badObjects > 0 ? [`${totals.badObjects} bad objects skipped`] : []),
  ].join(separator);
}

/** The line printed every few seconds when stderr is not a terminal (logs, CI). */
export function progressLine(name: string, totals: RestoreTotals, elapsedMs: number): string {
  const fraction = fractionDone(totals);
  if (fraction === undefined || !totals.planned) {
    return `restore ${name}: ${counts(totals)}, ${formatBytes(totals.bytes)} read, ${formatDuration(elapsedMs / 1000)} elapsed`;
  }
  const eta = etaSeconds(totals, elapsedMs);
  return (
    `restore ${name}: ${Math.floor(fraction * 100)}% (${formatBytes(totals.bytes)} of ${formatBytes(totals.planned.bytes)}), ${counts(totals)}, ` +
    `ETA ${eta === undefined ? '?' : formatDuration(eta)}`
  );
}

export type ProgressMode = 'bar' | 'lines' | 'off';

export interface RestoreProgress {
  update(tasks: readonly TaskStatus[]): void;
  /** Writes a line (e.g. a log line) without tearing the bar. */
  log(line: string): void;
  /** Removes the bar (or prints the last line); further updates are ignored. */
  finish(): void;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function createRestoreProgress(options: { mode: ProgressMode; name: string; stream: NodeJS.WriteStream; lineIntervalMs?: number }): RestoreProgress {
  const { mode, name, stream } = options;
  const lineIntervalMs = options.lineIntervalMs ?? 10_000;
  const write = (line: string) => void stream.write(line.endsWith('\n') ? line : `${line}\n`);
  let startedAt: number | undefined;
  let latest: RestoreTotals | undefined;
  let finished = false;

  if (mode === 'off') return { update: () => undefined, log: write, finish: () => undefined };

  if (mode === 'lines') {
    let lastLineAt = 0;
    return {
      update(tasks) {
        if (finished) return;
        const totals = restoreTotals(tasks);
        // Nothing to show before this run's tasks start (or at all, for a job finished earlier).
        if (!totals.running && startedAt === undefined) return;
        latest = totals;
        startedAt ??= Date.now();
        // The first line as soon as records flow, then one per interval (and the last one at the end).
        if ((lastLineAt === 0 && totals.records > 0) || (lastLineAt > 0 && Date.now() - lastLineAt >= lineIntervalMs)) {
          lastLineAt = Date.now();
          write(progressLine(name, totals, Date.now() - startedAt));
        }
      },
      log: write,
      finish() {
        if (!finished && latest && startedAt !== undefined) write(progressLine(name, latest, Date.now() - startedAt));
        finished = true;
      },
    };
  }

  // The bar's text is built here so its ETA matches the plain lines; cli-progress redraws it in place.
  const bars = new cliProgress.MultiBar({
    stream,
    hideCursor: true,
    clearOnComplete: false,
    gracefulExit: false,
    fps: 5,
    barsize: 24,
    format: (barOptions, _params, payload: { line: string; fraction: number }) =>
      payload.line.replace('{bar}', () => cliProgress.Format.BarFormat(payload.fraction, barOptions)),
  });
  let bar: cliProgress.SingleBar | undefined;
  let frame = 0;
  return {
    update(tasks) {
      if (finished) return;
      const totals = restoreTotals(tasks);
      if (!totals.running && !bar) return;
      startedAt ??= Date.now();
      const elapsedMs = Date.now() - startedAt;
      const fraction = fractionDone(totals);
      const eta = etaSeconds(totals, elapsedMs);
      // Short enough for an 80-column terminal: cli-progress cuts what does not fit.
      const line =
        fraction === undefined || !totals.planned
          ? `${SPINNER[frame++ % SPINNER.length]} ${counts(totals, ' | ')} | ${formatBytes(totals.bytes)} | ${formatDuration(elapsedMs / 1000)}`
          : `[{bar}] ${Math.floor(fraction * 100)}% ${formatBytes(totals.bytes)}/${formatBytes(totals.planned.bytes)} | ${totals.records} records | ${totals.partitionsDone}/${totals.partitions} partitions${totals.badObjects > 0 ? ` | ${totals.badObjects} bad` : ''} | ETA ${eta === undefined ? '?' : formatDuration(eta)}`;
      const payload = { line, fraction: fraction ?? 0 };
      if (bar) bar.update(0, payload);
      else bar = bars.create(1, 0, payload);
    },
    log(line) {
      if (bar && !finished) bars.log(line.endsWith('\n') ? line : `${line}\n`);
      else write(line);
    },
    finish() {
      if (finished) return;
      finished = true;
      // A MultiBar that never drew still writes cursor sequences when stopped.
      if (bar) bars.stop();
    },
  };
}
