/**
 * Peer comparison: Apache Kafka Connect with Aiven's S3 sink (test/bench/peer-aiven.ts)
 * backing up the same pre-filled topic (compressible, 8 partitions) into the same S3
 * server, beside coldstore's BackupSink at gzip level 6 (Java's GZIPOutputStream default)
 * on that topic. A peer that cannot run is reported, never fatal.
 */
import { runColdstoreBackup, type BackupRunResult } from './backup-run.js';
import { backupResults, type Topics } from './backup-scenario.js';
import { unique, type BenchContext } from './context.js';
import { figure, measure, type Figure } from './figures.js';
import { createBucket, deleteBucket } from './s3.js';
import { MiB } from './stats.js';
import type { PeerRun } from './peer-aiven.js';

const PARTITIONS = 8;

/**
 * The peer's time without its JVM and worker start-up: coldstore's clock starts at
 * POST /connectors on a running worker, so this is the comparable figure (it still
 * counts the peer's connector start, as coldstore's does).
 */
function peerSeconds(r: PeerRun): number {
  return r.seconds - (r.startupSeconds ?? 0);
}
const GZIP_LEVEL = 6;

export async function peerScenario(ctx: BenchContext, topics: Topics): Promise<Figure[]> {
  const t = await topics.get('compressible', PARTITIONS, ctx.plan.backupRecords);
  const peerRuns: PeerRun[] = [];
  let error: string | undefined;
  for (let run = 0; run < ctx.options.runs && error === undefined; run++) {
    const bucket = `bench-peer-${unique()}`;
    ctx.bucketsToDelete.add(bucket);
    try {
      const { runAivenPeer } = await import('./peer-aiven.js');
      await createBucket(ctx.s3, bucket);
      const r = await runAivenPeer({
        bootstrap: ctx.stack.kafkaBootstrap,
        topic: t.topic,
        partitions: t.partitions,
        records: t.records,
        s3: { endpoint: ctx.stack.s3Endpoint, accessKey: ctx.stack.s3AccessKey, secretKey: ctx.stack.s3SecretKey, region: ctx.stack.s3Region, bucket },
        workDir: ctx.scratch('peer'),
        log: (line) => ctx.log(`  [peer] ${line}`),
      });
      peerRuns.push(r);
      ctx.log(
        `peer run ${run + 1}: ${(r.bytes / 1e6 / peerSeconds(r)).toFixed(1)} MB/s (${peerSeconds(r).toFixed(1)} s after ${(r.startupSeconds ?? 0).toFixed(1)} s of start-up), peak RSS ${(r.peakRssBytes / MiB).toFixed(0)} MiB, ${r.objects} objects`,
      );
    } catch (err) {
      error = (err as Error).message ?? String(err);
      ctx.log(`peer failed (reported, not fatal): ${(err as Error).stack ?? err}`);
    } finally {
      await deleteBucket(ctx.s3, bucket).then(
        () => ctx.bucketsToDelete.delete(bucket),
        () => undefined,
      );
    }
  }

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
  const title = `compressible, ${PARTITIONS} partitions, gzip ${GZIP_LEVEL}`;
  const peerThroughput = peerRuns.length > 0 ? measure(peerRuns.map((r) => r.bytes / 1e6 / peerSeconds(r))) : undefined;
  const peerThroughputWithStartup = peerRuns.length > 0 ? measure(peerRuns.map((r) => r.bytes / 1e6 / r.seconds)) : undefined;
  const peerRss = peerRuns.length > 0 ? measure(peerRuns.map((r) => r.peakRssBytes / MiB)) : undefined;
  const label = 'Kafka Connect + S3 sink on Aiven commons';
  return [
    figure({
      id: 'peer/throughput',
      title: `Peer throughput, ${title}`,
      unit: 'MB/s',
      ...(ours.length ? { coldstore: measure(ours.map((r) => r.mbPerSec)) } : {}),
      ...(peerThroughput ? { baseline: { ...peerThroughput, label } } : {}),
      target: { of: 'ratio', op: '>=', value: 1 },
      ...(peerThroughputWithStartup
        ? { note: `peer timed from its tasks RUNNING; ${peerThroughputWithStartup.median.toFixed(1)} MB/s counting its JVM start-up` }
        : {}),
      ...(error ? { error: `peer: ${error}` } : {}),
      details: { peerRuns, peerThroughputWithStartup, coldstoreRuns: ours },
    }),
    figure({
      id: 'peer/memory',
      title: `Peer peak RSS, ${title}`,
      unit: 'MiB',
      ...(ours.length ? { coldstore: measure(ours.map((r) => r.usage.peakRssBytes / MiB)) } : {}),
      ...(peerRss ? { baseline: { ...peerRss, label } } : {}),
      target: { of: 'ratio', op: '<=', value: 1 },
      ...(error ? { error: `peer: ${error}` } : {}),
    }),
  ];
}
