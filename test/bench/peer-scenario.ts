/**
 * Peer comparison: the same pre-filled topic (compressible, 8 partitions) backed up into the
 * same S3 server by coldstore's BackupSink at gzip level 6 (Java's GZIPOutputStream default)
 * and by each selected peer: `peer/aiven`, Apache Kafka Connect with Aiven's S3 sink
 * (test/bench/peer-aiven.ts), and `peer/oso`, OSO kafka-backup's engine (test/bench/peer-oso.ts).
 * A peer that cannot run is reported, never fatal.
 */
import { runColdstoreBackup, type BackupRunResult } from './backup-run.js';
import { backupResults, type Topics } from './backup-scenario.js';
import { unique, type BenchContext } from './context.js';
import { figure, measure, type Figure } from './figures.js';
import type { FilledTopic } from './kafka.js';
import { createBucket, deleteBucket } from './s3.js';
import { MiB } from './stats.js';
import type { PeerRun } from './peer-aiven.js';

const PARTITIONS = 8;
const GZIP_LEVEL = 6;

interface Peer {
  /** Its --only id. */
  id: string;
  /** Prefix of its figure ids (the Aiven peer keeps the ids it had before there were two). */
  figureId: string;
  title: string;
  label: string;
  run: (ctx: BenchContext, t: FilledTopic, bucket: string, log: (line: string) => void) => Promise<PeerRun>;
  /** The throughput note, given the median MB/s counting the peer's start-up. */
  note: (withStartup: number) => string;
  /** coldstore's throughput against the peer's at least, and its peak RSS against the peer's at most. */
  targets: { throughput: number; memory: number };
}

const PEERS: Peer[] = [
  {
    id: 'peer/aiven',
    figureId: 'peer',
    title: 'Peer',
    label: 'Kafka Connect + S3 sink on Aiven commons',
    run: async (ctx, t, bucket, log) => {
      const { runAivenPeer } = await import('./peer-aiven.js');
      return runAivenPeer({
        bootstrap: ctx.stack.kafkaBootstrap,
        topic: t.topic,
        partitions: t.partitions,
        records: t.records,
        s3: { endpoint: ctx.stack.s3Endpoint, accessKey: ctx.stack.s3AccessKey, secretKey: ctx.stack.s3SecretKey, region: ctx.stack.s3Region, bucket },
        workDir: ctx.scratch('peer'),
        log,
      });
    },
    note: (withStartup) => `peer timed from its tasks RUNNING; ${withStartup.toFixed(1)} MB/s counting its JVM start-up`,
    targets: { throughput: 2.5, memory: 0.5 },
  },
  {
    id: 'peer/oso',
    figureId: 'peer/oso',
    title: 'OSO kafka-backup peer',
    label: 'OSO kafka-backup-core 0.25.2, zstd 3',
    // The goal, not a commitment: faster with less memory.
    targets: { throughput: 1, memory: 1 },
    run: async (ctx, t, bucket, log) => {
      const { runOsoPeer } = await import('./peer-oso.js');
      return runOsoPeer({
        bootstrap: ctx.stack.kafkaBootstrap,
        topic: t.topic,
        bytes: t.bytes,
        s3: {
          client: ctx.s3,
          endpoint: ctx.stack.s3Endpoint,
          accessKey: ctx.stack.s3AccessKey,
          secretKey: ctx.stack.s3SecretKey,
          region: ctx.stack.s3Region,
          bucket,
        },
        workDir: ctx.scratch('peer-oso'),
        log,
      });
    },
    note: (withStartup) =>
      `peer compresses with zstd level 3 (it has no gzip), timed from its process up; ${withStartup.toFixed(1)} MB/s counting its process start-up`,
  },
];

/**
 * The peer's time without its start-up (JVM and worker; or process): coldstore's clock starts
 * at POST /connectors on a running worker, so this is the comparable figure (it still counts
 * the peer's connector or engine start, as coldstore's does).
 */
function peerSeconds(r: PeerRun): number {
  return r.seconds - (r.startupSeconds ?? 0);
}

async function runPeer(ctx: BenchContext, t: FilledTopic, peer: Peer): Promise<{ runs: PeerRun[]; error?: string }> {
  const runs: PeerRun[] = [];
  const log = (line: string) => ctx.log(`  [${peer.id}] ${line}`);
  for (let run = 0; run < ctx.options.runs; run++) {
    const bucket = `bench-peer-${unique()}`;
    ctx.bucketsToDelete.add(bucket);
    try {
      await createBucket(ctx.s3, bucket);
      const r = await peer.run(ctx, t, bucket, log);
      runs.push(r);
      ctx.log(
        `${peer.id} run ${run + 1}: ${(r.bytes / 1e6 / peerSeconds(r)).toFixed(1)} MB/s (${peerSeconds(r).toFixed(1)} s after ${(r.startupSeconds ?? 0).toFixed(1)} s of start-up), peak RSS ${(r.peakRssBytes / MiB).toFixed(0)} MiB, ${r.objects} objects`,
      );
    } catch (err) {
      ctx.log(`${peer.id} failed (reported, not fatal): ${(err as Error).stack ?? err}`);
      return { runs, error: (err as Error).message ?? String(err) };
    } finally {
      await deleteBucket(ctx.s3, bucket).then(
        () => ctx.bucketsToDelete.delete(bucket),
        () => undefined,
      );
    }
  }
  return { runs };
}

function peerFigures(peer: Peer, peerRuns: PeerRun[], error: string | undefined, ours: BackupRunResult[]): Figure[] {
  const title = `compressible, ${PARTITIONS} partitions, gzip ${GZIP_LEVEL}`;
  const throughput = peerRuns.length > 0 ? measure(peerRuns.map((r) => r.bytes / 1e6 / peerSeconds(r))) : undefined;
  const withStartup = peerRuns.length > 0 ? measure(peerRuns.map((r) => r.bytes / 1e6 / r.seconds)) : undefined;
  const rss = peerRuns.length > 0 ? measure(peerRuns.map((r) => r.peakRssBytes / MiB)) : undefined;
  const label = peer.label;
  return [
    figure({
      id: `${peer.figureId}/throughput`,
      title: `${peer.title} throughput, ${title}`,
      unit: 'MB/s',
      ...(ours.length ? { coldstore: measure(ours.map((r) => r.mbPerSec)) } : {}),
      ...(throughput ? { baseline: { ...throughput, label } } : {}),
      target: { of: 'ratio', op: '>=', value: peer.targets.throughput },
      ...(withStartup ? { note: peer.note(withStartup.median) } : {}),
      ...(error ? { error: `${peer.id}: ${error}` } : {}),
      details: { peerRuns, peerThroughputWithStartup: withStartup, coldstoreRuns: ours },
    }),
    figure({
      id: `${peer.figureId}/memory`,
      title: `${peer.title} peak RSS, ${title}`,
      unit: 'MiB',
      ...(ours.length ? { coldstore: measure(ours.map((r) => r.usage.peakRssBytes / MiB)) } : {}),
      ...(rss ? { baseline: { ...rss, label } } : {}),
      target: { of: 'ratio', op: '<=', value: peer.targets.memory },
      ...(error ? { error: `${peer.id}: ${error}` } : {}),
    }),
  ];
}

export async function peerScenario(ctx: BenchContext, topics: Topics): Promise<Figure[]> {
  const t = await topics.get('compressible', PARTITIONS, ctx.plan.backupRecords);
  const results: { peer: Peer; runs: PeerRun[]; error?: string }[] = [];
  for (const peer of PEERS.filter((p) => ctx.plan.selected(p.id))) results.push({ peer, ...(await runPeer(ctx, t, peer)) });

  // coldstore on the same topic: the backup scenario's runs when it ran this case, else our own.
  let ours: BackupRunResult[] = backupResults.get(`backup/compressible/p${PARTITIONS}/gzip${GZIP_LEVEL}`)?.coldstore ?? [];
  if (ours.length === 0) {
    try {
      for (let run = 0; run < ctx.options.runs; run++) ours.push(await runColdstoreBackup(ctx, t, { gzipLevel: GZIP_LEVEL }));
    } catch (err) {
      ours = [];
      ctx.log(`coldstore run for the peer comparison failed: ${(err as Error).message}`);
    }
  }
  return results.flatMap((r) => peerFigures(r.peer, r.runs, r.error, ours));
}
