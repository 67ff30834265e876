/**
 * Backup throughput: BackupSink in a worker process against a plain consumer of the same
 * client reading and discarding the same topic, for each case of the matrix (record
 * kind × partitions × gzip level). Runs alternate between the two, baseline first.
 */
import { runColdstoreBackup, type BackupRunResult } from './backup-run.js';
import { runScript } from './children.js';
import type { ConsumerInput, ConsumerResult } from './baseline-consumer.js';
import type { BenchContext } from './context.js';
import { figure, measure, type Figure } from './figures.js';
import { ensureFilledTopic, type FilledTopic } from './kafka.js';
import type { BackupCase } from './options.js';
import type { RecordKind } from './records.js';

/** The sink loop's batch size and poll timeout (runtime/worker/sink-runner.ts, runtime/kafka/sink-consumer.ts). */
export const SINK_MAX_POLL_RECORDS = 1000;
export const SINK_POLL_TIMEOUT_MS = 200;

export function runBaselineConsumer(ctx: BenchContext, t: FilledTopic): Promise<ConsumerResult> {
  const input: ConsumerInput = {
    bootstrap: ctx.stack.kafkaBootstrap,
    topic: t.topic,
    ends: Array.from({ length: t.partitions }, () => t.perPartition),
    maxRecords: SINK_MAX_POLL_RECORDS,
    pollTimeoutMs: SINK_POLL_TIMEOUT_MS,
  };
  return runScript<ConsumerResult>('baseline-consumer.ts', input, ctx.log);
}

/** Pre-filled topics by kind and partitions, shared by every scenario of one bench run. */
export class Topics {
  private readonly filled = new Map<string, Promise<FilledTopic>>();
  constructor(private readonly ctx: BenchContext) {}

  get(kind: RecordKind, partitions: number, records: number): Promise<FilledTopic> {
    const key = `${kind}/${partitions}/${records}`;
    let t = this.filled.get(key);
    if (!t) {
      t = ensureFilledTopic(this.ctx.stack.kafkaBootstrap, kind, partitions, records, this.ctx.log);
      this.filled.set(key, t);
    }
    return t;
  }
}

export interface BackupCaseResult {
  case: BackupCase;
  coldstore: BackupRunResult[];
  baseline: ConsumerResult[];
}

const TARGETS: Record<number, number> = { 1: 0.8, 6: 0.5 };

/** Backup results of this bench run, by case id: the peer and profile sections reuse them. */
export const backupResults = new Map<string, BackupCaseResult>();

export async function backupScenario(ctx: BenchContext, topics: Topics): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const c of ctx.plan.backupCases) {
    try {
      const t = await topics.get(c.kind, c.partitions, ctx.plan.backupRecords);
      const result: BackupCaseResult = { case: c, coldstore: [], baseline: [] };
      for (let run = 0; run < ctx.options.runs; run++) {
        const baselineFirst = run % 2 === 0;
        if (baselineFirst) result.baseline.push(await runBaselineConsumer(ctx, t));
        // The first compressible 8-partition backup is kept: the restore scenario restores it.
        const keep = c.kind === 'compressible' && c.partitions === 8 && !ctx.keptBackups.has(t.topic);
        const r = await runColdstoreBackup(ctx, t, { gzipLevel: c.gzipLevel, keep });
        result.coldstore.push(r);
        if (!baselineFirst) result.baseline.push(await runBaselineConsumer(ctx, t));
        const b = result.baseline[result.baseline.length - 1]!;
        ctx.log(
          `${c.id} run ${run + 1}: coldstore ${r.mbPerSec.toFixed(1)} MB/s (${r.seconds.toFixed(2)} s, peak RSS ${(r.usage.peakRssBytes / 2 ** 20).toFixed(0)} MiB), ` +
            `baseline ${(b.bytes / 1e6 / b.seconds).toFixed(1)} MB/s (${b.seconds.toFixed(2)} s)`,
        );
      }
      backupResults.set(c.id, result);
      figures.push(backupFigure(result));
    } catch (err) {
      ctx.log(`${c.id} failed: ${(err as Error).stack ?? err}`);
      figures.push(
        figure({
          id: c.id,
          title: caseTitle(c),
          unit: 'MB/s',
          target: { of: 'ratio', op: '>=', value: TARGETS[c.gzipLevel] ?? 0.5 },
          error: (err as Error).message,
        }),
      );
    }
  }
  return figures;
}

export function caseTitle(c: BackupCase): string {
  return `Backup ${c.kind}, ${c.partitions} partition${c.partitions === 1 ? '' : 's'}, gzip ${c.gzipLevel}`;
}

function backupFigure(r: BackupCaseResult): Figure {
  const coldstore = measure(r.coldstore.map((x) => x.mbPerSec));
  const baseline = measure(r.baseline.map((x) => x.bytes / 1e6 / x.seconds));
  const recordsPerSec = measure(r.coldstore.map((x) => x.recordsPerSec));
  const baselineRecordsPerSec = measure(r.baseline.map((x) => x.records / x.seconds));
  // CPU per MB of records: the worker process (all threads) against the plain consumer process.
  const cpuMsPerMb = measure(r.coldstore.map((x) => (x.usage.cpuSeconds * 1000) / (x.bytes / 1e6)));
  const baselineCpuMsPerMb = measure(r.baseline.map((x) => (x.cpuSeconds * 1000) / (x.bytes / 1e6)));
  return figure({
    id: r.case.id,
    title: caseTitle(r.case),
    unit: 'MB/s',
    coldstore,
    baseline: { ...baseline, label: 'plain consumer, same client and settings' },
    target: { of: 'ratio', op: '>=', value: TARGETS[r.case.gzipLevel] ?? 0.5 },
    note: `${Math.round(recordsPerSec.median).toLocaleString('en-US')} vs ${Math.round(baselineRecordsPerSec.median).toLocaleString('en-US')} rec/s; CPU ${cpuMsPerMb.median.toFixed(0)} vs ${baselineCpuMsPerMb.median.toFixed(0)} ms/MB`,
    details: {
      recordsPerSec,
      baselineRecordsPerSec,
      cpuMsPerMb,
      baselineCpuMsPerMb,
      coldstoreRuns: r.coldstore,
      baselineRuns: r.baseline,
    },
  });
}
