/**
 * Zombie workers (issue 22): two standalone workers run the same BackupSink (same name,
 * backup.label and bucket), as when a connector is started on a new host before the old one
 * is stopped. They share the consumer group and split 6 partitions written at ~500
 * records/s. One of them, picked at random (seeded: COLDSTORE_ZOMBIE_SEED replays the random
 * choices, though not the timing), is paused with SIGSTOP past the consumer session timeout and resumed, at least
 * 10 times (COLDSTORE_ZOMBIE_PAUSES); some pauses land mid-upload, where the worker stops
 * itself at a `:stop` failpoint (after a range's claim, after a bundle's upload). Then worker
 * 1 is restarted with stale stored offsets: an older copy of its data dir, then offsets
 * raised inside a bundle and past the bucket's end. After each part an independent reader
 * proves every produced offset exactly once in S3 and no two bundles of a partition overlapping.
 */
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KafkaProducer } from '../../runtime/kafka/producer.js';
import { readPartitions } from '../helpers/broker-records.js';
import { bootstrap, createTopic } from '../helpers/kafka.js';
import { listKeys, s3Client, s3Settings } from '../helpers/s3.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { freePort, WorkerProcess } from '../helpers/worker-process.js';
import { SteadyProduction } from './cluster-kit.js';
import { logTail, proveExactlyOnce, recordDifferences, sleep, startWorker, summary, until } from './fault-kit.js';
import {
  assignments,
  bundleRanges,
  failpointStops,
  fetchBundles,
  logMessageCounts,
  Pauser,
  readSinkOffsets,
  SeededRandom,
  tasksWithin,
  tilingProblems,
  untilCovered,
  watchFailures,
  writeSinkOffsets,
  type NamedWorker,
} from './zombie-kit.js';

const PARTITIONS = 6;
const PAUSES = Number(process.env['COLDSTORE_ZOMBIE_PAUSES'] ?? 10);
/** Records per partition per 100 ms tick: ~480 records/s in all. */
const PER_TICK = 8;
const CONNECTOR = 'backup';
/** The consumers' session timeout: a pause of 8–12 s outlives it, so the paused worker's assignment is lost. */
const SESSION_TIMEOUT_MS = 6_000;
const HOLD_MS = [8_000, 12_000] as const;
const LOST = 'partitions lost';
const CLAIMED = 'range claimed by another writer; following its cut';
/** The failpoints a worker stops itself at (`backup.after-claim` comes with the claims of issue 22). */
const STOP_POINTS = ['backup.after-claim', 'backup.after-upload'] as const;

/** At most `n` lines of a list, for assertion messages. */
const firstLines = (items: readonly string[], n = 15) => [...items.slice(0, n), ...(items.length > n ? [`... and ${items.length - n} more`] : [])].join('\n');

describe('BackupSink: a paused worker (zombie) and stale stored offsets, every offset exactly once in S3', () => {
  const dir = tmpDir('faults-zombie');
  const workers: NamedWorker[] = [];
  let producer: KafkaProducer | undefined;
  let production: SteadyProduction | undefined;
  let pauser: Pauser | undefined;
  let watcher: ReturnType<typeof watchFailures> | undefined;
  afterAll(async () => {
    void production?.stop();
    pauser?.close();
    watcher?.stop();
    for (const { worker } of workers) {
      worker.resume(); // SIGCONT first: a stopped worker ignores every signal but SIGKILL
      await worker.kill('SIGKILL');
    }
    await producer?.disconnect();
  });

  it(`survives ${PAUSES} pauses past the session timeout and restarts with stale offsets: no overlap, zero lost, zero duplicated`, async () => {
    const started = Date.now();
    const rng = SeededRandom.fromEnv('COLDSTORE_ZOMBIE_SEED');
    console.info(`[faults] zombie-pause seed=${rng.seed} (replay: COLDSTORE_ZOMBIE_SEED=${rng.seed})`);
    const topic = uniqueName('fzombie');
    const label = uniqueName('fzombie').toLowerCase();
    const bucket = `coldstore-${label}-events`;
    const client = s3Client();
    await createTopic(topic, PARTITIONS);
    const connectorFile = join(dir, 'backup.json');
    const connector = {
      name: CONNECTOR,
      config: {
        'connector.class': 'BackupSink',
        topics: topic,
        'tasks.max': '1',
        'backup.label': label,
        'bundle.max.records': '300',
        'bundle.max.age.ms': '1500',
        'gzip.level': '1',
        'consumer.override.session.timeout.ms': String(SESSION_TIMEOUT_MS),
        'consumer.override.heartbeat.interval.ms': '1000',
        ...s3Settings(),
      },
    };
    writeFileSync(connectorFile, JSON.stringify(connector));
    for (const n of [1, 2]) {
      mkdirSync(join(dir, `w${n}`));
      const worker = new WorkerProcess(join(dir, `w${n}`), await freePort(), {
        'bootstrap.servers': bootstrap(),
        'worker.id': `zombie-w${n}`,
        'offset.flush.interval.ms': 500,
      });
      workers.push({ name: `w${n}`, worker });
    }
    const [w1, w2] = workers as [NamedWorker, NamedWorker];
    const w1Data = join(w1.worker.dir, 'data');
    const armed = () => ({ COLDSTORE_FAILPOINTS: STOP_POINTS.map((p) => `${p}@${rng.int(5, 30)}:stop`).join(',') });
    const findings: string[] = [];
    const start = async (w: NamedWorker, env: Record<string, string> = {}) => {
      expect(await startWorker(w.worker, [connectorFile], env), `${w.name} did not start:\n${logTail(w.worker)}`).toBe('started');
    };
    const stop = async (w: NamedWorker) => {
      await pauser!.idle();
      const code = await w.worker.terminate();
      if (code !== 0) findings.push(`${w.name} exited with ${code} on SIGTERM:\n${logTail(w.worker, 15)}`);
    };
    /** Restarts a worker that ended by itself (it must not), noting it as a finding. */
    const reviveDead = async () => {
      for (const w of workers) {
        if (w.worker.pid !== undefined) continue;
        findings.push(`${w.name} ended by itself:\n${logTail(w.worker, 15)}`);
        await start(w);
      }
    };

    // The topic is written all along: distinct keyed records, idempotent producer.
    producer = new KafkaProducer({ bootstrapServers: bootstrap(), extra: {} }, 'faults-zombie-producer');
    await producer.connect();
    production = new SteadyProduction(producer, topic, PARTITIONS, PER_TICK, label);
    const produce = () => production!.start();
    const stopProducing = () => production!.stop();
    /** Waits for every produced offset to be in some bundle (a bounded wait: what is missing then is reported), then proves. */
    const prove = async (part: string, counts: number[]) => {
      const uncovered = await untilCovered(client, bucket, topic, counts, 20_000, 90_000);
      // Why records are missing, as the workers see it: each partition's committed offset and lag.
      const status: string[] = [];
      for (const w of uncovered.length > 0 ? workers : []) {
        for (const t of (await tasksWithin(w.worker, CONNECTOR, 2_000)) ?? []) {
          const partitions = (t.progress?.['partitions'] ?? []) as { partition: number; committed_offset: number | null; lag: number | null }[];
          status.push(
            `${w.name} task ${t.id} ${t.state}: ${partitions.map((q) => `${q.partition} committed ${q.committed_offset} lag ${q.lag}`).join(', ') || 'no partitions'}`,
          );
        }
      }
      await sleep(3_000); // uploads of a zombie still in flight land too
      const objects = await fetchBundles(client, bucket);
      const source = await readPartitions(counts.map((count, partition) => ({ topic, partition, count })));
      expect(source, `${part}: the broker holds what was produced`).toHaveLength(counts.reduce((a, b) => a + b, 0));
      const report = proveExactlyOnce(topic, PARTITIONS, objects, source, recordDifferences);
      return {
        part,
        uncovered,
        status,
        report,
        tiling: tilingProblems(
          topic,
          objects.map((o) => o.key),
          counts,
        ),
        records: source.length,
      };
    };

    // Part 1: pauses past the session timeout, some at a failpoint mid-upload.
    let snapshot: string | undefined;
    pauser = new Pauser(workers, rng, HOLD_MS, (w) => {
      // An older copy of worker 1's data dir for part 2, taken while it is stopped (consistent) and has offsets.
      if (w !== w1 || snapshot || Object.keys(readSinkOffsets(w1Data, CONNECTOR)).length === 0) return;
      snapshot = join(dir, 'w1-checkpoints-snapshot');
      cpSync(join(w1Data, 'checkpoints'), snapshot, { recursive: true, filter: (path) => !path.includes('.tmp-') });
    });
    watcher = watchFailures(workers, CONNECTOR);
    produce();
    await Promise.all([start(w1, armed()), start(w2, armed())]);
    const rearmed = new Set<NamedWorker>();
    const pauses = () => pauser!.testPauses + pauser!.selfStops;
    // At least PAUSES in all, and at least half of them at random moments (failpoints stop workers too).
    const morePauses = () => pauses() < PAUSES || pauser!.testPauses < Math.ceil(PAUSES / 2);
    while (morePauses()) {
      await sleep(rng.int(1_000, 4_000));
      await pauser.idle();
      await reviveDead();
      // A worker whose failpoint fired is restarted once with new hit numbers: more pauses mid-upload.
      for (const w of workers) {
        if (rearmed.has(w) || Object.keys(failpointStops(w.worker.logPath)).length === 0) continue;
        rearmed.add(w);
        await stop(w);
        await start(w, armed());
      }
      if (morePauses()) await pauser.pause(rng.pick(workers));
    }
    await pauser.idle();
    await reviveDead();
    const part1 = await prove('part 1 (zombies)', await stopProducing());

    // Part 2: worker 1 restarted with stale stored offsets while worker 2 runs and records flow.
    produce();
    const staleRuns: string[] = [];
    const restartOwning = async (what: string) => {
      const before = assignments(w1.worker.logPath).length;
      const stale = readSinkOffsets(w1Data, CONNECTOR);
      await start(w1);
      // A restarted static member may wait for a rebalance: the stale offsets count only once it owns partitions.
      const owned = await until(`w1 to own partitions`, async () => assignments(w1.worker.logPath)[before], 45_000).catch(() => undefined);
      if (!owned) findings.push(`${what}: worker 1 owned no partition within 45 s of its restart:\n${logTail(w1.worker, 15)}`);
      staleRuns.push(`${what}: owns partition@stored offset ${(owned ?? []).map((tp) => `${tp.split('/').pop()}@${stale[tp] ?? 'none'}`).join(' ')}`);
      await sleep(8_000);
    };
    await stop(w1);
    rmSync(join(w1Data, 'checkpoints'), { recursive: true, force: true });
    if (snapshot) cpSync(snapshot, join(w1Data, 'checkpoints'), { recursive: true });
    await restartOwning(snapshot ? '(a) older copy of its data dir' : '(a) stored offsets dropped');
    await stop(w1);
    // Newer than the store proves: inside the last bundle (even partitions), past the bucket's end (odd ones).
    const { ranges } = bundleRanges(topic, await listKeys(client, bucket));
    const offsets = readSinkOffsets(w1Data, CONNECTOR);
    const raised: string[] = [];
    for (const [p, list] of ranges) {
      const last = list[list.length - 1]!;
      const offset = p % 2 === 0 ? last.start + (last.end - last.start + 1n) / 2n : last.end + 201n;
      raised.push(`${p}:${offsets[`${topic}/${p}`] ?? 'none'}->${offset} (last bundle ${last.start}-${last.end})`);
      offsets[`${topic}/${p}`] = String(offset);
    }
    writeSinkOffsets(w1Data, CONNECTOR, offsets);
    await restartOwning('(b) raised offsets');
    await reviveDead();
    const counts = await stopProducing();
    const part2 = await prove('part 2 (stale offsets)', counts);
    for (const w of workers) await stop(w);
    pauser.close();
    watcher.stop();

    const logs = workers.map((w) => logMessageCounts(w.worker.logPath, [LOST, CLAIMED, 'partitions assigned']));
    const stops = workers.map((w) => failpointStops(w.worker.logPath));
    const sumOf = (m: string) => logs.reduce((n, l) => n + l[m]!, 0);
    const stopsAt = (point: string) => stops.reduce((n, s) => n + (s[point] ?? 0), 0);
    const newOverlaps = part2.tiling.overlaps.filter((o) => !part1.tiling.overlaps.includes(o));
    summary('zombie-pause', {
      seed: rng.seed,
      'pauses(sigstop/self-stop)': `${pauser.testPauses}/${pauser.selfStops}`,
      'self-stops(after-claim/after-upload)': `${stopsAt('backup.after-claim')}/${stopsAt('backup.after-upload')}`,
      'partitions lost': sumOf(LOST),
      'claimed by another writer': sumOf(CLAIMED),
      assignments: sumOf('partitions assigned'),
      bundles: part2.report.bundles,
      'records checked': part2.records,
      'overlaps(part1/part2 new)': `${part1.tiling.overlaps.length}/${newOverlaps.length}`,
      'invalid keys': part2.tiling.invalid.length,
      'lost(part1/part2)': `${part1.report.lost}/${part2.report.lost}`,
      'duplicated(part1/part2)': `${part1.report.duplicated}/${part2.report.duplicated}`,
      mismatched: part2.report.mismatched,
      'failed tasks': watcher.failures.size,
      seconds: Math.round((Date.now() - started) / 1000),
    });
    console.info(`[faults] zombie-pause sequence: ${pauser.sequence.join(' ')}`);
    console.info(`[faults] zombie-pause part 2: offsets raised ${raised.join(', ')}; worker 1 restarted: ${staleRuns.join('; ')}`);

    expect
      .soft(
        [...watcher.failures].map(([task, trace]) => `${task} FAILED: ${trace}`),
        'no task may fail',
      )
      .toEqual([]);
    expect.soft(findings, 'workers stop only when told to').toEqual([]);
    for (const part of [part1, part2]) {
      const { report, tiling } = part;
      // Part 2 is judged on what it added: overlaps not seen after part 1 (the cumulative counts are in the summary).
      const overlaps = part === part1 ? tiling.overlaps : newOverlaps;
      const duplicated = part === part1 ? report.duplicated : report.duplicated - part1.report.duplicated;
      expect
        .soft(
          part.uncovered,
          `${part.part}: every produced offset backed up (waiting while the backup progressed):\n${firstLines(part.uncovered)}\n${part.status.join('\n')}`,
        )
        .toEqual([]);
      expect.soft(overlaps.length, `${part.part}: bundles of a partition overlap:\n${firstLines(overlaps)}`).toBe(0);
      expect.soft(tiling.gaps.length, `${part.part}: offsets in no bundle:\n${firstLines(tiling.gaps)}`).toBe(0);
      expect.soft(tiling.invalid, `${part.part}: bundle keys the reader refuses`).toEqual([]);
      expect.soft(report.lost, `${part.part}: records lost:\n${firstLines(report.problems)}`).toBe(0);
      expect
        .soft(duplicated, `${part.part}: records stored twice (${report.records} records in ${report.bundles} bundles for ${part.records} produced)`)
        .toBe(0);
      expect.soft(report.mismatched, `${part.part}: records that differ from the broker's:\n${firstLines(report.problems)}`).toBe(0);
    }
    expect.soft(pauses(), 'pauses done').toBeGreaterThanOrEqual(PAUSES);
    expect.soft(pauser.testPauses, 'pauses at random moments').toBeGreaterThanOrEqual(Math.ceil(PAUSES / 2));
    expect.soft(pauser.selfStops, 'at least one pause at a failpoint mid-upload').toBeGreaterThanOrEqual(1);
    expect.soft(sumOf(LOST), `pauses past the session timeout lose assignments: '${LOST}' lines in the worker logs`).toBeGreaterThanOrEqual(1);
  });
});
