/**
 * Freshness: a steady producer writes into a new topic that a BackupSink backs up with
 * bundle.max.age.ms = 5000, once as a flood (2 MiB/s, every poll full) and once as a
 * trickle (25 records/s, polls never full). Every second the age of the oldest record not yet durable
 * is sampled: now − the produce time of the first record at or after the committed
 * offset (0 when caught up), from produce times kept in memory and the committed
 * offsets the worker reports. Reported: the max and p95 of the samples.
 */
import { rmSync } from 'node:fs';
import KafkaLib from '@confluentinc/kafka-javascript';
import type { LibrdKafkaError } from '@confluentinc/kafka-javascript';
import type { FreshnessCase } from './options.js';
import { BUCKET_PREFIX, bucketsOf, unique, type BenchContext } from './context.js';
import { figure, measure, type Figure } from './figures.js';
import { createTopic, deleteTopic } from './kafka.js';
import { recordKey, recordValue } from './records.js';
import { deleteBucket, s3Settings } from './s3.js';
import { percentile } from './stats.js';
import { BenchWorker } from './worker.js';

const { Producer, CODES } = KafkaLib;
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
  const producer = new Producer({
    'bootstrap.servers': ctx.stack.kafkaBootstrap,
    'client.id': 'coldstore-bench-steady',
    'linger.ms': 5,
    'enable.idempotence': true,
    dr_cb: true,
  });
  let failure: Error | undefined;
  producer.on('delivery-report', (err: LibrdKafkaError) => {
    if (err) failure ??= new Error(`steady producer: ${err.message}`);
  });
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
    const assignedBy = Date.now() + 60_000;
    for (;;) {
      const tasks = await worker.tasks(name);
      const owned = tasks.flatMap((t) => t.progress?.partitions ?? []).filter((p) => p.topic === topic).length;
      if (owned === partitions) break;
      if (Date.now() > assignedBy) throw new Error(`the sink did not take all ${partitions} partitions of ${topic}`);
      await sleep(200);
    }
    await new Promise<void>((resolve, reject) => producer.connect({ timeout: 30_000 }, (err) => (err ? reject(err) : resolve())));
    producer.setPollInterval(20);

    /** Produce time of each record, per partition, in offset order (a new topic starts at offset 0). */
    const producedAt: number[][] = Array.from({ length: partitions }, () => []);
    let produced = 0;
    let producedBytes = 0;
    const started = Date.now();
    const stopAt = started + seconds * 1000;
    const producing = (async () => {
      while (Date.now() < stopAt && !failure) {
        const due = Math.floor(((Date.now() - started) / 1000) * recordsPerSecond);
        while (produced < due) {
          const partition = produced % partitions;
          const index = producedAt[partition]!.length;
          const key = recordKey(partition, index);
          const value = recordValue('compressible', partition, index);
          const now = Date.now();
          try {
            producer.produce(topic, partition, value, key, now);
          } catch (err) {
            if ((err as { code?: number }).code === CODES.ERRORS.ERR__QUEUE_FULL) break;
            throw err;
          }
          producedAt[partition]!.push(now);
          produced++;
          producedBytes += key.length + value.length;
        }
        await sleep(20);
      }
    })();

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
    if (failure) throw failure;
    await new Promise<void>((resolve, reject) => producer.flush(30_000, (err) => (err ? reject(err) : resolve())));
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
      producedRecords: produced,
      producedMbPerSec: producedBytes / 1e6 / seconds,
    };
  } finally {
    await new Promise<void>((resolve) => producer.disconnect(() => resolve()));
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
