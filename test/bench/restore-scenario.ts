/**
 * Restore throughput: RestoreSource (plain, and transaction.boundary=poll) in a worker
 * process restoring a backup made by the backup scenario into a new topic, from the
 * connector's creation until every task is FINISHED; against a plain producer of the
 * same client and settings sending the same records from memory. Every run gets a new
 * target topic, created beforehand with the same partition count for both.
 */
import { rmSync } from 'node:fs';
import { runColdstoreBackup } from './backup-run.js';
import type { ProducerInput, ProducerResult } from './baseline-producer.js';
import { runScript } from './children.js';
import { unique, type BenchContext, type KeptBackup } from './context.js';
import { figure, measure, type Figure } from './figures.js';
import { createTopic, deleteTopic, endOffsets, type FilledTopic } from './kafka.js';
import { s3Settings } from './s3.js';
import { serverCpu, serverCpuPerMb, serverCpuSince } from './servers.js';
import type { Topics } from './backup-scenario.js';
import { BenchWorker, type WorkerRunFigures } from './worker.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The producer's throughput: plain restores at least 0.7×, transactional ones 0.6×. */
const TARGETS = { plain: 0.7, poll: 0.6 } as const;
const MODES = ['plain', 'poll'] as const;
type Mode = (typeof MODES)[number];

export interface RestoreRunResult extends WorkerRunFigures {
  mode: Mode;
  target: string;
}

async function restoreOnce(ctx: BenchContext, t: FilledTopic, backup: KeptBackup, mode: Mode): Promise<RestoreRunResult> {
  const target = `coldstore-bench-restored-${mode}-${unique()}`;
  ctx.topicsToDelete.add(target);
  await createTopic(ctx.stack.kafkaBootstrap, target, t.partitions);
  const dir = ctx.scratch('restore');
  const worker = await BenchWorker.start({ dir, bootstrap: ctx.stack.kafkaBootstrap, ...(ctx.options.profile ? { profileDir: ctx.options.profile } : {}) });
  const name = `bench-restore-${unique()}`;
  try {
    const cpu0 = serverCpu();
    worker.markStart();
    const started = performance.now();
    await worker.createConnector(name, {
      'connector.class': 'RestoreSource',
      topics: t.topic,
      'topic.rename': `${t.topic}:${target}`,
      'backup.label': backup.label,
      'bucket.prefix': backup.bucketPrefix,
      ...(mode === 'poll' ? { 'transaction.boundary': 'poll' } : {}),
      ...s3Settings(ctx.stack),
    });
    let records = 0;
    const deadline = Date.now() + 20 * 60_000;
    for (;;) {
      const tasks = await worker.tasks(name);
      if (tasks.length > 0 && tasks.every((task) => task.state === 'FINISHED')) {
        records = tasks.reduce((n, task) => n + Number((task.progress as { records?: number } | undefined)?.records ?? 0), 0);
        break;
      }
      if (Date.now() > deadline) throw new Error(`restore into ${target} not finished in time`);
      await sleep(100);
    }
    const seconds = (performance.now() - started) / 1000;
    const usage = worker.usage();
    const servers = serverCpuSince(cpu0);
    await worker.stop();
    if (records !== t.records) ctx.log(`restore ${mode}: task progress reports ${records} records, expected ${t.records}`);
    const ends = await endOffsets(ctx.stack.kafkaBootstrap, target, t.partitions);
    // A transactional restore also writes commit markers (one offset each per partition and transaction).
    if (mode === 'plain' && ends.some((e) => e !== BigInt(t.perPartition)))
      throw new Error(`restored ${target} has end offsets ${ends.join(',')}, expected ${t.perPartition} each`);
    return { mode, target, seconds, records: t.records, bytes: t.bytes, mbPerSec: t.bytes / 1e6 / seconds, recordsPerSec: t.records / seconds, usage, servers };
  } finally {
    await worker.stop();
    if (!ctx.options.profile) rmSync(dir, { recursive: true, force: true });
    await deleteTopic(ctx.stack.kafkaBootstrap, target).then(
      () => ctx.topicsToDelete.delete(target),
      () => undefined,
    );
  }
}

async function baselineOnce(ctx: BenchContext, t: FilledTopic): Promise<ProducerResult> {
  const target = `coldstore-bench-restored-baseline-${unique()}`;
  ctx.topicsToDelete.add(target);
  await createTopic(ctx.stack.kafkaBootstrap, target, t.partitions);
  try {
    const input: ProducerInput = { bootstrap: ctx.stack.kafkaBootstrap, topic: target, kind: t.kind, partitions: t.partitions, perPartition: t.perPartition };
    return await runScript<ProducerResult>('baseline-producer.ts', input, ctx.log);
  } finally {
    await deleteTopic(ctx.stack.kafkaBootstrap, target).then(
      () => ctx.topicsToDelete.delete(target),
      () => undefined,
    );
  }
}

export async function restoreScenario(ctx: BenchContext, topics: Topics): Promise<Figure[]> {
  const modes = MODES.filter((m) => ctx.plan.selected(`restore/${m}`));
  try {
    const t = await topics.get('compressible', 8, ctx.plan.backupRecords);
    let backup = ctx.keptBackups.get(t.topic);
    if (!backup) {
      ctx.log(`restore: backing ${t.topic} up first (gzip 6)`);
      await runColdstoreBackup(ctx, t, { gzipLevel: 6, keep: true });
      backup = ctx.keptBackups.get(t.topic)!;
    }
    const runs = new Map<Mode, RestoreRunResult[]>(modes.map((m) => [m, []]));
    const baseline: ProducerResult[] = [];
    for (let run = 0; run < ctx.options.runs; run++) {
      // Rotate the order so neither side always runs first.
      const order: (Mode | 'baseline')[] = ['baseline', ...modes];
      for (let i = 0; i < run % order.length; i++) order.push(order.shift()!);
      for (const step of order) {
        if (step === 'baseline') {
          const b = await baselineOnce(ctx, t);
          baseline.push(b);
          ctx.log(`restore baseline run ${run + 1}: ${(b.bytes / 1e6 / b.seconds).toFixed(1)} MB/s (${b.seconds.toFixed(2)} s)`);
        } else {
          const r = await restoreOnce(ctx, t, backup, step);
          runs.get(step)!.push(r);
          ctx.log(
            `restore/${step} run ${run + 1}: ${r.mbPerSec.toFixed(1)} MB/s (${r.seconds.toFixed(2)} s, peak RSS ${(r.usage.peakRssBytes / 2 ** 20).toFixed(0)} MiB)`,
          );
        }
      }
    }
    const base = measure(baseline.map((b) => b.bytes / 1e6 / b.seconds));
    return modes.map((mode) => {
      const rs = runs.get(mode)!;
      const servers = serverCpuPerMb(rs);
      return figure({
        id: `restore/${mode}`,
        title: `Restore ${mode === 'poll' ? 'transaction.boundary=poll' : 'plain (idempotent)'}, ${t.partitions} partitions`,
        unit: 'MB/s',
        coldstore: measure(rs.map((r) => r.mbPerSec)),
        baseline: { ...base, label: 'producer from memory, same client and settings' },
        target: { of: 'ratio', op: '>=', value: TARGETS[mode] },
        note:
          `${Math.round(measure(rs.map((r) => r.recordsPerSec)).median).toLocaleString('en-US')} vs ${Math.round(measure(baseline.map((b) => b.records / b.seconds)).median).toLocaleString('en-US')} rec/s; ` +
          `CPU ${measure(rs.map((r) => (r.usage.cpuSeconds * 1000) / (r.bytes / 1e6))).median.toFixed(0)} vs ${measure(baseline.map((b) => (b.cpuSeconds * 1000) / (b.bytes / 1e6))).median.toFixed(0)} ms/MB; ` +
          servers.note,
        details: { backup, kafkaCpuMsPerMb: servers.kafkaMsPerMb, s3CpuMsPerMb: servers.s3MsPerMb, coldstoreRuns: rs, baselineRuns: baseline },
      });
    });
  } catch (err) {
    ctx.log(`restore failed: ${(err as Error).stack ?? err}`);
    return modes.map((mode) =>
      figure({
        id: `restore/${mode}`,
        title: `Restore ${mode}`,
        unit: 'MB/s',
        target: { of: 'ratio', op: '>=', value: TARGETS[mode] },
        error: (err as Error).message,
      }),
    );
  }
}
