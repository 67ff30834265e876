/**
 * Freshness: a steady producer writes into a new topic that a BackupSink backs up with
 * bundle.max.age.ms = 5000, once as a flood (2 MiB/s, every poll full) and once as a
 * trickle (25 records/s, polls never full). Every second the age of the oldest record not yet durable
 * is sampled: now − the produce time of the first record at or after the committed
 * offset (0 when caught up), from produce times kept in memory and the committed
 * offsets the worker reports. Reported: the max and p95 of the samples.
 */
import { rmSync } from 'node:fs';
import type { FreshnessCase } from './options.js';
import { BUCKET_PREFIX, bucketsOf, unique, type BenchContext } from './context.js';
import { figure, measure, type Figure } from './figures.js';
import { createTopic, deleteTopic } from './kafka.js';
import { deleteBucket, s3Settings } from './s3.js';
import { percentile } from './stats.js';
import { SteadyProducer } from './steady-producer.js';
import { BenchWorker } from './worker.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The worker's default offset.flush.interval.ms: committed offsets move at least this often. */
const FLUSH_INTERVAL_MS = 5_000;
const SLACK_MS = 2_000;

export interface FreshnessRun {
  maxAgeSeconds: number;
  p95AgeSeconds: number;
  samples: { atSeconds: number; ageSeconds: number }[];
  producedRecords: number;
  producedMbPerSec: number;
}

async function freshnessOnce(ctx: BenchContext, rate: FreshnessCase): Promise<FreshnessRun> {
  const { seconds, bundleMaxAgeMs } = ctx.plan.freshness;
  const { partitions, recordsPerSecond } = rate;
  const topic = `coldstore-bench-fresh-${unique()}`;
  const label = `f${unique()}`;
  const name = `bench-fresh-${label}`;
  ctx.topicsToDelete.add(topic);
  for (const b of bucketsOf(BUCKET_PREFIX, label)) ctx.bucketsToDelete.add(b);
  await createTopic(ctx.stack.kafkaBootstrap, topic, partitions);
  const dir = ctx.scratch('fresh');
  const worker = await BenchWorker.start({
    dir,
    bootstrap: ctx.stack.kafkaBootstrap,
    config: { 'offset.flush.interval.ms': FLUSH_INTERVAL_MS },
    ...(ctx.options.profile ? { profileDir: ctx.options.profile } : {}),
  });
  let producer: SteadyProducer | undefined;
  try {
    await worker.createConnector(name, {
      'connector.class': 'BackupSink',
      topics: topic,
      'backup.label': label,
      'bucket.prefix': BUCKET_PREFIX,
      'bundle.max.age.ms': String(bundleMaxAgeMs),
      ...s3Settings(ctx.stack),
    });
    // Start producing once the task owns every partition, so start-up is not counted as staleness.
    await worker.untilOwned(name, topic, partitions);
    producer = await SteadyProducer.connect(ctx.stack.kafkaBootstrap, 'coldstore-bench-steady');

    /** Produce time of each record, per partition, in offset order (a new topic starts at offset 0). */
    const producedAt: number[][] = Array.from({ length: partitions }, () => []);
    const started = Date.now();
    const stopAt = started + seconds * 1000;
    const producing = producer.run({
      topic,
      partitions,
      recordsPerSecond,
      startedAt: started,
      stopAt,
      onRecord: (partition, _index, at) => producedAt[partition]!.push(at),
    });
    // Awaited after the sampling; a failure meanwhile must not count as unhandled.
    producing.catch(() => undefined);

    const samples: { atSeconds: number; ageSeconds: number }[] = [];
    const sample = async (): Promise<number> => {
      const committed = await worker.committed(name, topic);
      const now = Date.now();
      let age = 0;
      for (let p = 0; p < partitions; p++) {
        const c = committed.get(p) ?? 0;
        const first = producedAt[p]![c];
        if (first !== undefined) age = Math.max(age, now - first);
      }
      samples.push({ atSeconds: (now - started) / 1000, ageSeconds: age / 1000 });
      return age;
    };
    while (Date.now() < stopAt) {
      await sleep(1000 - ((Date.now() - started) % 1000));
      await sample();
    }
    await producing;
    await producer.flush();
    // Then until the last records are durable too (they wait for their bundle's age like any other).
    const drainBy = Date.now() + 3 * (bundleMaxAgeMs + FLUSH_INTERVAL_MS);
    while ((await sample()) > 0) {
      if (Date.now() > drainBy) throw new Error('the backup did not catch up after the producer stopped');
      await sleep(1000);
    }
    const ages = samples.map((s) => s.ageSeconds);
    return {
      maxAgeSeconds: Math.max(...ages),
      p95AgeSeconds: percentile(ages, 95),
      samples,
      producedRecords: producer.records,
      producedMbPerSec: producer.bytes / 1e6 / seconds,
    };
  } finally {
    await producer?.disconnect();
    await worker.stop();
    if (!ctx.options.profile) rmSync(dir, { recursive: true, force: true });
    await deleteTopic(ctx.stack.kafkaBootstrap, topic).then(
      () => ctx.topicsToDelete.delete(topic),
      () => undefined,
    );
    for (const b of bucketsOf(BUCKET_PREFIX, label)) {
      await deleteBucket(ctx.s3, b).then(
        () => ctx.bucketsToDelete.delete(b),
        () => undefined,
      );
    }
  }
}

export async function freshnessScenario(ctx: BenchContext): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const rate of ctx.plan.freshness.cases) figures.push(...(await freshnessCase(ctx, rate)));
  return figures;
}

async function freshnessCase(ctx: BenchContext, rate: FreshnessCase): Promise<Figure[]> {
  const f = ctx.plan.freshness;
  const limitSeconds = (f.bundleMaxAgeMs + FLUSH_INTERVAL_MS + SLACK_MS) / 1000;
  const setting = `${rate.rate} for ${f.seconds} s into ${rate.partitions} partitions, bundle.max.age.ms=${f.bundleMaxAgeMs}, offset.flush.interval.ms=${FLUSH_INTERVAL_MS}`;
  const runs: FreshnessRun[] = [];
  try {
    for (let run = 0; run < ctx.options.runs; run++) {
      const r = await freshnessOnce(ctx, rate);
      runs.push(r);
      ctx.log(
        `${rate.id} run ${run + 1}: max ${r.maxAgeSeconds.toFixed(1)} s, p95 ${r.p95AgeSeconds.toFixed(1)} s (${r.producedMbPerSec.toFixed(2)} MB/s produced)`,
      );
    }
  } catch (err) {
    ctx.log(`${rate.id} failed: ${(err as Error).stack ?? err}`);
    return [
      figure({
        id: rate.id,
        title: `Freshness at ${rate.rate}`,
        unit: 's',
        target: { of: 'value', op: '<=', value: limitSeconds },
        error: (err as Error).message,
      }),
    ];
  }
  const target = { of: 'value' as const, op: '<=' as const, value: limitSeconds };
  return [
    figure({
      id: `${rate.id}/max`,
      title: `Freshness at ${rate.rate}: oldest record not yet durable, max`,
      unit: 's',
      coldstore: measure(runs.map((r) => r.maxAgeSeconds)),
      target,
      note: setting,
      details: { runs },
    }),
    figure({
      id: `${rate.id}/p95`,
      title: `Freshness at ${rate.rate}: oldest record not yet durable, p95`,
      unit: 's',
      coldstore: measure(runs.map((r) => r.p95AgeSeconds)),
      target,
    }),
  ];
}
