/**
 * RPO of a warm standby: one worker runs a BackupSink (bundle.max.age.ms 5000) of a
 * topic written steadily at 2 MiB/s and a RestoreSource with restore.mode=follow
 * (follow.interval.ms 2000, transaction.boundary=poll) restoring that backup into a
 * renamed standby topic. Every 250 ms a read_committed consumer of the standby, in the
 * bench's process, gives the recovery point: now − the newest record timestamp (each
 * record's production time) of the partition furthest behind; what a failover at that
 * moment would lose. Reported: its max and p95 over the measured seconds, which begin
 * after a warm-up of at least 10 s once every partition has reached the standby (its
 * start is reported apart); held to bundle.max.age.ms + follow.interval.ms + 5 s.
 */
import { rmSync } from 'node:fs';
import { BUCKET_PREFIX, bucketsOf, unique, type BenchContext } from './context.js';
import { figure, measure, type Figure } from './figures.js';
import { createTopic, deleteTopic } from './kafka.js';
import { deleteBucket, s3Settings } from './s3.js';
import { percentile, round } from './stats.js';
import { StandbyWatch } from './standby-watch.js';
import { SteadyProducer } from './steady-producer.js';
import { BenchWorker } from './worker.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SAMPLE_EVERY_MS = 250;
const STATUS_EVERY_MS = 1_000;
const SLACK_MS = 5_000;

export interface RpoSample {
  atSeconds: number;
  /** now − newest record of the partition furthest behind: the figure. */
  ageSeconds: number;
  /** now − newest record anywhere on the standby. */
  newestAgeSeconds: number;
}

export interface RpoRun {
  maxAgeSeconds: number;
  p95AgeSeconds: number;
  /** The same over the newest record anywhere in the topic, not per partition. */
  newestMaxAgeSeconds: number;
  newestP95AgeSeconds: number;
  /** The largest newest_age_ms the follow task reported in its status meanwhile (its own recovery-point figure). */
  statusMaxAgeSeconds: number | null;
  /** Seconds from the first record produced until every partition had one on the standby (the standby's start). */
  firstOnStandbySeconds: number;
  /** When the measured part began: after the warm-up, once every partition had reached the standby. */
  measuredFromSeconds: number;
  /** Seconds from the last record produced until the standby held every record. */
  drainSeconds: number;
  producedRecords: number;
  producedMbPerSec: number;
  standbyRecords: number;
  samples: RpoSample[];
}

type FollowedPartitions = Record<string, { newest_age_ms: number | null }>;

/** The follow task's partitions as its status reports them (a record keyed topic/partition, unlike a sink's list). */
async function followedPartitions(worker: BenchWorker, name: string): Promise<FollowedPartitions> {
  const tasks = await worker.tasks(name);
  return Object.assign({}, ...tasks.map((t) => (t.progress as { partitions?: FollowedPartitions } | undefined)?.partitions ?? {})) as FollowedPartitions;
}

/** A sample every SAMPLE_EVERY_MS from `from` until `until`; a late one (a busy event loop) is not followed by a burst of catch-up samples. */
async function sampleAges(watch: StandbyWatch, started: number, from: number, until: number): Promise<RpoSample[]> {
  const samples: RpoSample[] = [];
  for (let tick = from; tick < until;) {
    await sleep(tick - Date.now());
    const now = Date.now();
    samples.push({ atSeconds: (now - started) / 1000, ageSeconds: watch.worstAge(now) / 1000, newestAgeSeconds: watch.newestAge(now) / 1000 });
    do tick += SAMPLE_EVERY_MS;
    while (tick <= Date.now());
  }
  return samples;
}

/** The follow task's own newest_age_ms, polled apart from the samples so a slow status call never delays one; stop() gives the largest. */
function pollStatusAges(worker: BenchWorker, follow: string): { stop: () => Promise<number | null> } {
  let polling = true;
  let largest: number | null = null;
  const loop = (async () => {
    while (polling) {
      for (const p of Object.values(await followedPartitions(worker, follow))) if (p.newest_age_ms !== null) largest = Math.max(largest ?? 0, p.newest_age_ms);
      await sleep(STATUS_EVERY_MS);
    }
  })();
  loop.catch(() => undefined);
  return {
    stop: async () => {
      polling = false;
      await loop;
      return largest;
    },
  };
}

async function rpoOnce(ctx: BenchContext): Promise<RpoRun> {
  const { seconds, warmupSeconds, bundleMaxAgeMs, followIntervalMs, partitions, recordsPerSecond } = ctx.plan.rpo;
  const id = unique();
  const topic = `coldstore-bench-rpo-${id}`;
  const standby = `coldstore-bench-rpo-standby-${id}`;
  const label = `r${id}`;
  const backup = `bench-rpo-backup-${label}`;
  const follow = `bench-rpo-follow-${label}`;
  for (const t of [topic, standby]) ctx.topicsToDelete.add(t);
  for (const b of bucketsOf(BUCKET_PREFIX, label)) ctx.bucketsToDelete.add(b);
  await createTopic(ctx.stack.kafkaBootstrap, topic, partitions);
  const dir = ctx.scratch('rpo');
  const worker = await BenchWorker.start({ dir, bootstrap: ctx.stack.kafkaBootstrap, ...(ctx.options.profile ? { profileDir: ctx.options.profile } : {}) });
  const location = { 'backup.label': label, 'bucket.prefix': BUCKET_PREFIX, ...s3Settings(ctx.stack) };
  let producer: SteadyProducer | undefined;
  let watch: StandbyWatch | undefined;
  try {
    await worker.createConnector(backup, { 'connector.class': 'BackupSink', topics: topic, 'bundle.max.age.ms': String(bundleMaxAgeMs), ...location });
    await worker.untilOwned(backup, topic, partitions);
    // The sink records the topic's partition count at its start, so the follower finds every partition before the first bundle.
    await worker.createConnector(follow, {
      'connector.class': 'RestoreSource',
      'restore.mode': 'follow',
      topics: topic,
      'topic.rename': `${topic}:${standby}`,
      'transaction.boundary': 'poll',
      'follow.interval.ms': String(followIntervalMs),
      ...location,
    });
    const followingBy = Date.now() + 90_000;
    while (Object.keys(await followedPartitions(worker, follow)).length < partitions) {
      if (Date.now() > followingBy) throw new Error(`the follow task did not take all ${partitions} partitions of ${topic}`);
      await sleep(200);
    }

    const started = Date.now();
    watch = await StandbyWatch.start(ctx.stack.kafkaBootstrap, standby, partitions, started);
    producer = await SteadyProducer.connect(ctx.stack.kafkaBootstrap, 'coldstore-bench-rpo');
    const producing = producer.run({ topic, partitions, recordsPerSecond, startedAt: started, stopAt: Number.POSITIVE_INFINITY });
    // Awaited after the sampling; a failure meanwhile must not count as unhandled.
    producing.catch(() => undefined);

    // The standby's start (first listings, the transactional producer, every partition's first bundle) is not the steady state.
    await sleep(warmupSeconds * 1000);
    const warmBy = started + 90_000;
    while (watch.counts.some((n) => n === 0)) {
      if (Date.now() > warmBy) throw new Error(`partitions ${watch.emptyPartitions().join(', ')} of ${standby} still empty 90 s after production began`);
      await worker.tasks(follow); // throws with the trace if the follow task FAILED
      await sleep(100);
    }
    const measuredFrom = Date.now();
    const status = pollStatusAges(worker, follow);
    const samples = await sampleAges(watch, started, measuredFrom, measuredFrom + seconds * 1000);
    producer.stop();
    await producing;
    const producedUntil = Date.now();
    await producer.flush();
    const statusMaxAgeMs = await status.stop();

    // A standby that lost or stalled on records would show it here, not in the ages alone.
    const drainBy = producedUntil + 3 * (bundleMaxAgeMs + followIntervalMs) + 30_000;
    while (watch.counts.some((n, p) => n < producer!.produced[p]!)) {
      if (Date.now() > drainBy) {
        throw new Error(
          `the standby holds ${watch.records} of ${producer.records} records ${Math.round((Date.now() - producedUntil) / 1000)} s after the producer stopped`,
        );
      }
      await worker.tasks(follow);
      await sleep(SAMPLE_EVERY_MS);
    }
    const drainSeconds = (Date.now() - producedUntil) / 1000;
    if (watch.notCreateTime > 0) throw new Error(`${watch.notCreateTime} standby records do not carry their production time (CreateTime)`);
    const ages = samples.map((s) => s.ageSeconds);
    const newest = samples.map((s) => s.newestAgeSeconds);
    return {
      maxAgeSeconds: round(Math.max(...ages), 3),
      p95AgeSeconds: round(percentile(ages, 95), 3),
      newestMaxAgeSeconds: round(Math.max(...newest), 3),
      newestP95AgeSeconds: round(percentile(newest, 95), 3),
      statusMaxAgeSeconds: statusMaxAgeMs === null ? null : statusMaxAgeMs / 1000,
      firstOnStandbySeconds: round((watch.allReachedAt - started) / 1000, 3),
      measuredFromSeconds: round((measuredFrom - started) / 1000, 3),
      drainSeconds: round(drainSeconds, 3),
      producedRecords: producer.records,
      producedMbPerSec: round(producer.bytes / 1e6 / ((producedUntil - started) / 1000), 3),
      standbyRecords: watch.records,
      samples: samples.map((s) => ({ atSeconds: round(s.atSeconds, 2), ageSeconds: round(s.ageSeconds, 3), newestAgeSeconds: round(s.newestAgeSeconds, 3) })),
    };
  } finally {
    await watch?.stop();
    await producer?.disconnect();
    await worker.stop();
    if (!ctx.options.profile) rmSync(dir, { recursive: true, force: true });
    for (const t of [topic, standby]) {
      await deleteTopic(ctx.stack.kafkaBootstrap, t).then(
        () => ctx.topicsToDelete.delete(t),
        () => undefined,
      );
    }
    for (const b of bucketsOf(BUCKET_PREFIX, label)) {
      await deleteBucket(ctx.s3, b).then(
        () => ctx.bucketsToDelete.delete(b),
        () => undefined,
      );
    }
  }
}

export async function rpoScenario(ctx: BenchContext): Promise<Figure[]> {
  const r = ctx.plan.rpo;
  const target = { of: 'value' as const, op: '<=' as const, value: (r.bundleMaxAgeMs + r.followIntervalMs + SLACK_MS) / 1000 };
  const setting =
    `${r.rate} into ${r.partitions} partitions, ${r.seconds} s after a warm-up of ≥ ${r.warmupSeconds} s; ` +
    `bundle.max.age.ms=${r.bundleMaxAgeMs}, follow.interval.ms=${r.followIntervalMs}, transaction.boundary=poll`;
  const runs: RpoRun[] = [];
  try {
    for (let run = 0; run < ctx.options.runs; run++) {
      const o = await rpoOnce(ctx);
      runs.push(o);
      ctx.log(
        `rpo run ${run + 1}: max ${o.maxAgeSeconds.toFixed(1)} s, p95 ${o.p95AgeSeconds.toFixed(1)} s (newest anywhere: max ${o.newestMaxAgeSeconds.toFixed(1)} s, ` +
          `p95 ${o.newestP95AgeSeconds.toFixed(1)} s; task status max ${o.statusMaxAgeSeconds?.toFixed(1) ?? '—'} s; ${o.producedMbPerSec.toFixed(2)} MB/s produced, ` +
          `every partition on the standby ${o.firstOnStandbySeconds.toFixed(1)} s after production began, ` +
          `${o.standbyRecords}/${o.producedRecords} records on it ${o.drainSeconds.toFixed(1)} s after the producer stopped)`,
      );
    }
  } catch (err) {
    ctx.log(`rpo failed: ${(err as Error).stack ?? err}`);
    return [figure({ id: 'rpo', title: `Warm standby RPO at ${r.rate}`, unit: 's', target, error: (err as Error).message })];
  }
  return [
    figure({
      id: 'rpo/max',
      title: `Warm standby RPO at ${r.rate}: age of the newest record on the standby, max`,
      unit: 's',
      coldstore: measure(runs.map((o) => o.maxAgeSeconds)),
      target,
      note: setting,
      details: { runs },
    }),
    figure({
      id: 'rpo/p95',
      title: `Warm standby RPO at ${r.rate}: age of the newest record on the standby, p95`,
      unit: 's',
      coldstore: measure(runs.map((o) => o.p95AgeSeconds)),
      target,
      note: `per partition furthest behind; newest anywhere: max ${measure(runs.map((o) => o.newestMaxAgeSeconds)).median.toFixed(1)} s`,
    }),
  ];
}
