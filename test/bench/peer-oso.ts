/**
 * The benchmark's second peer: OSO kafka-backup, as its library crate kafka-backup-core
 * 0.25.2 runs a backup, in a small binary (test/bench/peer/oso/) that backs the topic up
 * once in the crate's snapshot mode (`stop_at_current_offsets`: each partition's end
 * offset is taken at the start, the process exits when all reached it). The crate offers
 * zstd, lz4 or none, no gzip: the peer uses its default, zstd level 3.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import KafkaLib from '@confluentinc/kafka-javascript';
import type { PeerRun } from './peer-aiven.js';
import { ensureOsoPeerBinary } from './peer/fetch-oso.js';
import { lastLines, statusBytes } from './proc.js';

export const OSO_CRATE = 'kafka-backup-core 0.25.2';
export const OSO_COMPRESSION = { codec: 'zstd', level: 3 } as const;
/** Same as coldstore's bundle.max.records default (and the Aiven peer's file.max.records). */
const SEGMENT_MAX_RECORDS = 1000;
const POLL_MS = 250;

export interface OsoPeerRun extends PeerRun {
  /** Bytes of the objects in the bucket (segments and the manifest). */
  storedBytes: number;
  /** Records the manifest lists, summed over its segments. */
  manifestRecords: number;
  /** The part of `seconds` from the process being up to the engine connected (metadata, before any fetch). */
  engineStartSeconds: number;
  compression: string;
}

export interface OsoPeerOptions {
  bootstrap: string;
  topic: string;
  /** Key + value bytes of every record of the topic, which the segments must hold back. */
  bytes: number;
  s3: { client: S3Client; endpoint: string; accessKey: string; secretKey: string; region: string; bucket: string };
  workDir: string;
  log: (line: string) => void;
  /** Gives up (and kills the process) after this long; default 15 minutes. */
  timeoutMs?: number;
}

interface Event {
  event: string;
  at: number;
  message?: string;
  vmHwmBytes?: number;
  [field: string]: unknown;
}

interface ManifestSegment {
  key: string;
  start_offset: number;
  end_offset: number;
  record_count: number;
}
interface Manifest {
  compression: string;
  topics: { name: string; partitions: { partition_id: number; segments: ManifestSegment[] }[] }[];
}

/** Runs the peer binary; its stdout is JSON lines, each stamped when it arrives. */
function start(binary: string, args: string[], options: OsoPeerOptions, logFile: string) {
  const err = openSync(logFile, 'a');
  const child = spawn(binary, args, {
    stdio: ['ignore', 'pipe', err],
    env: { ...process.env, AWS_ACCESS_KEY_ID: options.s3.accessKey, AWS_SECRET_ACCESS_KEY: options.s3.secretKey, RUST_LOG: 'info' },
  });
  closeSync(err);
  child.on('error', () => {}); // e.g. a missing binary: the exit below reports it
  const events: Event[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const at = performance.now();
    try {
      events.push({ ...(JSON.parse(line) as Event), at });
    } catch {
      events.push({ event: 'output', message: line, at });
    }
  });
  const exited = new Promise<number | string>((resolveExit) => {
    child.once('exit', (code, signal) => resolveExit(code ?? signal ?? 'unknown'));
    child.once('error', (e) => resolveExit(e.message));
  });
  // The exit fires before the last stdout lines are read; the stream's end comes after them.
  const drained = new Promise<void>((resolveEnd) => child.stdout!.once('close', () => resolveEnd()));
  return { child, events, exited: exited.then(async (code) => (await drained, code)) };
}

async function listBucket(s3: S3Client, bucket: string): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const item of page.Contents ?? []) sizes.set(item.Key!, item.Size ?? 0);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return sizes;
}

/**
 * What the peer stored, checked three ways against the topic: the bucket's listing holds
 * every segment its manifest names, the manifest's record counts and offset ranges cover
 * every partition to its end, and every segment read back with the crate's own reader
 * (CRC checked, decompressed) holds the topic's records and key + value bytes.
 */
async function checkStored(
  binary: string,
  options: OsoPeerOptions,
  backupId: string,
  ends: Map<number, { low: number; high: number }>,
  logFile: string,
): Promise<{ objects: number; storedBytes: number; manifestRecords: number; records: number; bytes: number; compression: string }> {
  const expected = [...ends.values()].reduce((n, p) => n + p.high - p.low, 0);
  const listing = await listBucket(options.s3.client, options.s3.bucket);
  const got = await options.s3.client.send(new GetObjectCommand({ Bucket: options.s3.bucket, Key: `${backupId}/manifest.json` }));
  const manifest = JSON.parse(await got.Body!.transformToString()) as Manifest;
  const partitions = manifest.topics.find((t) => t.name === options.topic)?.partitions ?? [];
  let manifestRecords = 0;
  for (const [partition, { low, high }] of ends) {
    const segments = partitions.find((p) => p.partition_id === partition)?.segments ?? [];
    for (const s of segments) {
      if (!listing.has(s.key)) throw new Error(`peer/oso: the manifest names ${s.key}, which is not in the bucket`);
      manifestRecords += s.record_count;
    }
    const reach = Math.max(low - 1, ...segments.map((s) => s.end_offset));
    if (reach !== high - 1) throw new Error(`peer/oso: partition ${partition} is backed up to offset ${reach}, the topic ends at ${high - 1}`);
  }
  if (manifestRecords !== expected) throw new Error(`peer/oso: the manifest lists ${manifestRecords} records, the topic holds ${expected}`);

  const args = ['verify', '--endpoint', options.s3.endpoint, '--region', options.s3.region, '--bucket', options.s3.bucket, '--backup-id', backupId];
  const run = start(binary, args, options, logFile);
  const code = await run.exited;
  const verified = run.events.find((e) => e.event === 'verified') as (Event & { records: number; distinctOffsets: number; keyValueBytes: number }) | undefined;
  if (code !== 0 || !verified) {
    const why = run.events.find((e) => e.event === 'error')?.message ?? `exit ${code}`;
    throw new Error(`peer/oso: reading the segments back failed: ${why}\n--- ${logFile} ---\n${lastLines(logFile)}`);
  }
  if (verified.records !== expected || verified.distinctOffsets !== expected) {
    throw new Error(`peer/oso: the segments hold ${verified.records} records (${verified.distinctOffsets} distinct offsets), the topic ${expected}`);
  }
  if (verified.keyValueBytes !== options.bytes) {
    throw new Error(`peer/oso: the segments hold ${verified.keyValueBytes} bytes of keys and values, the topic ${options.bytes}`);
  }
  const storedBytes = [...listing.values()].reduce((n, s) => n + s, 0);
  return { objects: listing.size, storedBytes, manifestRecords, records: verified.records, bytes: verified.keyValueBytes, compression: manifest.compression };
}

/** Backs `topic` up with kafka-backup-core into an empty bucket, measuring time and memory, then checks what it stored. */
export async function runOsoPeer(options: OsoPeerOptions): Promise<OsoPeerRun> {
  const { log, topic } = options;
  const binary = await ensureOsoPeerBinary(log);
  mkdirSync(options.workDir, { recursive: true });
  const logFile = join(options.workDir, 'oso-peer.log');
  const existing = await options.s3.client.send(new ListObjectsV2Command({ Bucket: options.s3.bucket, MaxKeys: 1 }));
  if ((existing.KeyCount ?? 0) > 0) throw new Error(`peer/oso: bucket ${options.s3.bucket} is not empty; give the peer a fresh bucket`);

  const admin = new KafkaLib.KafkaJS.Kafka({ kafkaJS: { brokers: [options.bootstrap], logLevel: KafkaLib.KafkaJS.logLevel.NOTHING } }).admin();
  await admin.connect();
  let child: ChildProcess | undefined;
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    const ends = new Map(offsets.map((p) => [p.partition, { low: Number(p.low), high: Number(p.high) }]));
    const backupId = `oso-peer-${Date.now()}`;
    const args = ['backup', '--bootstrap', options.bootstrap, '--topic', topic, '--endpoint', options.s3.endpoint, '--region', options.s3.region];
    args.push('--bucket', options.s3.bucket, '--backup-id', backupId, '--segment-max-records', String(SEGMENT_MAX_RECORDS));
    args.push('--zstd-level', String(OSO_COMPRESSION.level));
    log(`peer/oso: ${binary} ${args.join(' ')} (log ${logFile})`);
    const startedAt = performance.now();
    const run = start(binary, args, options, logFile);
    child = run.child;
    const pid = child.pid;
    const killOnExit = () => run.child.kill('SIGKILL');
    process.once('exit', killOnExit);
    let peak = 0;
    const ended: { code?: number | string } = {};
    void run.exited.then((code) => (ended.code = code));
    const deadline = Date.now() + (options.timeoutMs ?? 15 * 60_000);
    try {
      while (ended.code === undefined) {
        if (pid !== undefined) peak = Math.max(peak, statusBytes(pid, 'VmHWM') ?? 0);
        if (Date.now() > deadline) throw new Error(`peer/oso: backup not complete within ${(options.timeoutMs ?? 15 * 60_000) / 1000} s`);
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    } finally {
      process.off('exit', killOnExit);
    }
    child = undefined;
    const at = (name: string) => run.events.find((e) => e.event === name);
    const [ready, engine, done] = [at('process-ready'), at('engine-ready'), at('done')];
    if (ended.code !== 0 || !ready || !engine || !done) {
      const why = at('error')?.message ?? `exit ${ended.code}`;
      throw new Error(`peer/oso: the backup failed: ${why}\n--- last lines of ${logFile} ---\n${lastLines(logFile)}`);
    }
    peak = Math.max(peak, done.vmHwmBytes ?? 0);
    const seconds = (done.at - startedAt) / 1000;
    const startupSeconds = (ready.at - startedAt) / 1000;
    const engineStartSeconds = (engine.at - ready.at) / 1000;
    log(`peer/oso: done after ${seconds.toFixed(1)} s (process start-up ${startupSeconds.toFixed(2)} s); peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB`);

    const stored = await checkStored(binary, options, backupId, ends, logFile);
    log(
      `peer/oso: ${stored.records} records, ${(stored.bytes / 2 ** 20).toFixed(1)} MiB of keys+values; ${stored.objects} objects, ${(stored.storedBytes / 2 ** 20).toFixed(1)} MiB stored (${stored.compression})`,
    );
    return {
      seconds,
      startupSeconds,
      engineStartSeconds,
      records: stored.records,
      bytes: stored.bytes,
      peakRssBytes: peak,
      objects: stored.objects,
      storedBytes: stored.storedBytes,
      manifestRecords: stored.manifestRecords,
      compression: `${stored.compression} level ${OSO_COMPRESSION.level}`,
    };
  } finally {
    child?.kill('SIGKILL');
    await admin.disconnect();
  }
}
