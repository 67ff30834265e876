/**
 * One timed BackupSink run in a real worker process: from the connector's creation
 * (POST /connectors on an idle worker) until the committed offsets it reports reach
 * the end of every partition of the pre-filled topic.
 */
import { rmSync } from 'node:fs';
import { BUCKET_PREFIX, bucketsOf, unique, type BenchContext } from './context.js';
import type { FilledTopic } from './kafka.js';
import { bucketUsage, deleteBucket, s3Settings } from './s3.js';
import { BenchWorker, histogramTotals, type WorkerRunFigures } from './worker.js';
import { serverCpu, serverCpuSince } from './servers.js';

export interface BackupRunResult extends WorkerRunFigures {
  topic: string;
  label: string;
  gzipLevel: number;
  /** Bundles uploaded and their mean encode + gzip + upload time (the connector's upload histogram). */
  uploads?: { bundles: number; meanSeconds: number };
  objects: number;
  storedBytes: number;
}

export interface BackupRunOptions {
  gzipLevel: number;
  /** More connector settings. */
  config?: Record<string, string>;
  /** Keep the buckets (for a restore); otherwise they are deleted after the run. */
  keep?: boolean;
  timeoutMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const POLL_MS = 100;

export async function runColdstoreBackup(ctx: BenchContext, t: FilledTopic, options: BackupRunOptions): Promise<BackupRunResult> {
  const label = `b${unique()}`;
  const name = `bench-backup-${label}`;
  const dir = ctx.scratch('backup');
  const worker = await BenchWorker.start({ dir, bootstrap: ctx.stack.kafkaBootstrap, ...(ctx.options.profile ? { profileDir: ctx.options.profile } : {}) });
  const buckets = bucketsOf(BUCKET_PREFIX, label);
  for (const b of buckets) ctx.bucketsToDelete.add(b);
  try {
    const cpu0 = serverCpu();
    worker.markStart();
    const started = performance.now();
    await worker.createConnector(name, {
      'connector.class': 'BackupSink',
      topics: t.topic,
      'tasks.max': '1',
      'backup.label': label,
      'bucket.prefix': BUCKET_PREFIX,
      'gzip.level': String(options.gzipLevel),
      ...s3Settings(ctx.stack),
      ...options.config,
    });
    const deadline = Date.now() + (options.timeoutMs ?? 20 * 60_000);
    for (;;) {
      const committed = await worker.committed(name, t.topic);
      let done = committed.size === t.partitions;
      for (const offset of committed.values()) if (offset < t.perPartition) done = false;
      if (done) break;
      if (Date.now() > deadline) throw new Error(`backup of ${t.topic} not complete in time; committed ${JSON.stringify([...committed])}`);
      await sleep(POLL_MS);
    }
    const seconds = (performance.now() - started) / 1000;
    const usage = worker.usage();
    const servers = serverCpuSince(cpu0);
    const uploadTimes = histogramTotals(await worker.metricsText(), 'coldstore_backup_upload_duration_seconds');
    await worker.stop();
    const stored = await bucketUsage(ctx.s3, buckets[0]!);
    if (options.keep) {
      ctx.keptBackups.set(t.topic, { topic: t.topic, label, bucketPrefix: BUCKET_PREFIX, gzipLevel: options.gzipLevel });
    } else {
      for (const b of buckets) {
        await deleteBucket(ctx.s3, b).catch((err: Error) => ctx.log(`could not delete bucket ${b}: ${err.message}`));
        ctx.bucketsToDelete.delete(b);
      }
    }
    return {
      topic: t.topic,
      label,
      gzipLevel: options.gzipLevel,
      seconds,
      records: t.records,
      bytes: t.bytes,
      mbPerSec: t.bytes / 1e6 / seconds,
      recordsPerSec: t.records / seconds,
      usage,
      servers,
      ...(uploadTimes && uploadTimes.count > 0 ? { uploads: { bundles: uploadTimes.count, meanSeconds: uploadTimes.sum / uploadTimes.count } } : {}),
      objects: stored.objects,
      storedBytes: stored.bytes,
    };
  } finally {
    await worker.stop();
    if (!ctx.options.profile) rmSync(dir, { recursive: true, force: true });
  }
}
