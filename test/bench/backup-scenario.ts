/**
 * Backup throughput: BackupSink in a worker process against two baselines of the same
 * client reading the same topic, for each case of the matrix (record kind × partitions ×
 * gzip level): the plain consumer, which discards what it reads, and the floor, which
 * also gzips each polled batch with coldstore's codec at the case's level. Each round
 * runs all three once, in an order that rotates from round to round.
 */
import { runColdstoreBackup, type BackupRunResult } from './backup-run.js';
import { runScript } from './children.js';
import type { ConsumerInput, ConsumerResult } from './baseline-consumer.js';
import type { BenchContext } from './context.js';
import { figure, floorOf, measure, type Figure, type Target } from './figures.js';
import { ensureFilledTopic, type FilledTopic } from './kafka.js';
import type { BackupCase } from './options.js';
import type { RecordKind } from './records.js';
import { serverCpuPerMb } from './servers.js';

/** The sink loop's batch size and poll timeout (runtime/worker/sink-runner.ts, runtime/kafka/sink-consumer.ts). */
export const SINK_MAX_POLL_RECORDS = 1000;
export const SINK_POLL_TIMEOUT_MS = 200;

function consumerInput(ctx: BenchContext, t: FilledTopic): ConsumerInput {
  return {
    bootstrap: ctx.stack.kafkaBootstrap,
    topic: t.topic,
    ends: Array.from({ length: t.partitions }, () => t.perPartition),
    maxRecords: SINK_MAX_POLL_RECORDS,
    pollTimeoutMs: SINK_POLL_TIMEOUT_MS,
  };
}

export function runBaselineConsumer(ctx: BenchContext, t: FilledTopic): Promise<ConsumerResult> {
  return runScript<ConsumerResult>('baseline-consumer.ts', consumerInput(ctx, t), ctx.log);
}

/**
 * The floor: the plain consumer that also gzips every polled batch. Its threadpool is
 * as large as the worker's (app/cli/main.cts sets 64 unless the environment says
 * otherwise), so compressions do not queue behind the consume call holding a thread.
 */
export function runFloorConsumer(ctx: BenchContext, t: FilledTopic, gzipLevel: number): Promise<ConsumerResult> {
  const env = { UV_THREADPOOL_SIZE: process.env['UV_THREADPOOL_SIZE'] ?? '64' };
  return runScript<ConsumerResult>('baseline-consumer.ts', { ...consumerInput(ctx, t), gzipLevel }, ctx.log, undefined, env);
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
  floor: ConsumerResult[];
}

const TARGETS: Record<number, number> = { 1: 0.8, 6: 0.5 };
/** coldstore against the floor, at every level: how close it comes to consume + gzip alone. */
const FLOOR_TARGET: Target = { of: 'ratio', op: '>=', value: 0.85 };

type RunKind = 'baseline' | 'floor' | 'coldstore';
const RUN_KINDS: readonly RunKind[] = ['baseline', 'floor', 'coldstore'];

/** Round 0 runs baseline, floor, coldstore; each later round starts one further on, so each kind takes each place in turn. */
export function roundOrder(round: number): RunKind[] {
  return RUN_KINDS.map((_, i) => RUN_KINDS[(round + i) % RUN_KINDS.length]!);
}

/** Backup results of this bench run, by case id: the peer and profile sections reuse them. */
export const backupResults = new Map<string, BackupCaseResult>();

const consumerMbPerSec = (x: ConsumerResult) => x.bytes / 1e6 / x.seconds;

async function runCase(ctx: BenchContext, c: BackupCase, t: FilledTopic): Promise<BackupCaseResult> {
  const result: BackupCaseResult = { case: c, coldstore: [], baseline: [], floor: [] };
  for (let round = 0; round < ctx.options.runs; round++) {
    for (const kind of roundOrder(round)) {
      if (kind === 'baseline') result.baseline.push(await runBaselineConsumer(ctx, t));
      else if (kind === 'floor') result.floor.push(await runFloorConsumer(ctx, t, c.gzipLevel));
      else {
        // The first compressible 8-partition backup is kept: the restore scenario restores it.
        const keep = c.kind === 'compressible' && c.partitions === 8 && !ctx.keptBackups.has(t.topic);
        result.coldstore.push(await runColdstoreBackup(ctx, t, { gzipLevel: c.gzipLevel, keep }));
      }
    }
    const r = result.coldstore[round]!;
    const b = result.baseline[round]!;
    const f = result.floor[round]!;
    ctx.log(
      `${c.id} run ${round + 1}: coldstore ${r.mbPerSec.toFixed(1)} MB/s (${r.seconds.toFixed(2)} s, peak RSS ${(r.usage.peakRssBytes / 2 ** 20).toFixed(0)} MiB), ` +
        `baseline ${consumerMbPerSec(b).toFixed(1)} MB/s (${b.seconds.toFixed(2)} s), ` +
        `floor ${consumerMbPerSec(f).toFixed(1)} MB/s (${f.seconds.toFixed(2)} s, ${f.compression?.compressor ?? '?'})`,
    );
  }
  return result;
}

export async function backupScenario(ctx: BenchContext, topics: Topics): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const c of ctx.plan.backupCases) {
    try {
      const t = await topics.get(c.kind, c.partitions, ctx.plan.backupRecords);
      const result = await runCase(ctx, c, t);
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

const cpuMsPerMbOf = (x: { cpuSeconds: number; bytes: number }) => (x.cpuSeconds * 1000) / (x.bytes / 1e6);

function backupFigure(r: BackupCaseResult): Figure {
  const coldstore = measure(r.coldstore.map((x) => x.mbPerSec));
  const baseline = measure(r.baseline.map(consumerMbPerSec));
  const floor = measure(r.floor.map(consumerMbPerSec));
  const recordsPerSec = measure(r.coldstore.map((x) => x.recordsPerSec));
  const baselineRecordsPerSec = measure(r.baseline.map((x) => x.records / x.seconds));
  const floorRecordsPerSec = measure(r.floor.map((x) => x.records / x.seconds));
  // CPU per MB of records: the worker process (all threads) against the baselines' processes.
  const cpuMsPerMb = measure(r.coldstore.map((x) => cpuMsPerMbOf({ cpuSeconds: x.usage.cpuSeconds, bytes: x.bytes })));
  const baselineCpuMsPerMb = measure(r.baseline.map(cpuMsPerMbOf));
  const floorCpuMsPerMb = measure(r.floor.map(cpuMsPerMbOf));
  const compressor = r.floor[0]?.compression?.compressor ?? 'unknown compressor';
  const servers = serverCpuPerMb(r.coldstore);
  return figure({
    id: r.case.id,
    title: caseTitle(r.case),
    unit: 'MB/s',
    coldstore,
    baseline: { ...baseline, label: 'plain consumer, same client and settings' },
    target: { of: 'ratio', op: '>=', value: TARGETS[r.case.gzipLevel] ?? 0.5 },
    floor: floorOf(coldstore, floor, `plain consumer + gzip ${r.case.gzipLevel} of each batch, ${compressor}`, FLOOR_TARGET),
    note:
      `${Math.round(recordsPerSec.median).toLocaleString('en-US')} vs ${Math.round(baselineRecordsPerSec.median).toLocaleString('en-US')} rec/s; ` +
      `CPU ${cpuMsPerMb.median.toFixed(0)} vs ${baselineCpuMsPerMb.median.toFixed(0)} ms/MB, floor ${floorCpuMsPerMb.median.toFixed(0)} ms/MB; ${servers.note}`,
    details: {
      kafkaCpuMsPerMb: servers.kafkaMsPerMb,
      s3CpuMsPerMb: servers.s3MsPerMb,
      recordsPerSec,
      baselineRecordsPerSec,
      floorRecordsPerSec,
      cpuMsPerMb,
      baselineCpuMsPerMb,
      floorCpuMsPerMb,
      coldstoreRuns: r.coldstore,
      baselineRuns: r.baseline,
      floorRuns: r.floor,
    },
  });
}
