/**
 * The benchmark's peer: Apache Kafka Connect 3.9.1 in standalone mode, as `connect-standalone.sh`
 * would run it, with an S3 sink built on Aiven's connector code, backing up the same topic to
 * the same S3 server as coldstore.
 *
 * Aiven's S3 sink connector itself is not on Maven Central (only on GitHub releases, which this
 * project cannot reach). Its shared sink library io.aiven:commons-for-apache-kafka-connect is;
 * test/bench/peer/AivenCommonsS3Sink.java puts Aiven's S3 upload pattern on top of it. See that
 * file and test/bench/peer/maven/ for what comes from where.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import KafkaLib from '@confluentinc/kafka-javascript';
import { ensurePeerJars } from './peer/fetch.js';
import { lastLines, statusBytes } from './proc.js';

/** What one peer run measured: Apache Kafka Connect (standalone) with Aiven's S3 sink connector. */
export interface PeerRun {
  /** From the connector's start until every record of the topic was in S3. */
  seconds: number;
  records: number;
  /** Bytes of record keys and values read from the topic. */
  bytes: number;
  /** Peak resident set size of the Connect JVM process. */
  peakRssBytes: number;
  /** Objects the connector wrote. */
  objects: number;
  /** The part of `seconds` before the connector and its tasks were RUNNING (JVM and worker startup). */
  startupSeconds?: number;
}

export interface PeerOptions {
  bootstrap: string;
  topic: string;
  partitions: number;
  records: number;
  s3: { endpoint: string; accessKey: string; secretKey: string; region: string; bucket: string };
  /** Where jars, configs and logs go. */
  workDir: string;
  log: (line: string) => void;
  /** JVM heap flags; default connect-standalone.sh's own `-Xms256M -Xmx2G`. */
  jvmHeap?: string[];
  /** Gives up (and stops Connect) after this long; default 15 minutes. */
  timeoutMs?: number;
  /** The connector's tasks.max; default 1. */
  tasks?: number;
}

/** connect-standalone.sh's defaults (KAFKA_HEAP_OPTS, KAFKA_JVM_PERFORMANCE_OPTS), so the JVM is tuned as operators get it. */
const DEFAULT_HEAP = ['-Xms256M', '-Xmx2G'];
const JVM_PERFORMANCE_OPTS = [
  '-server',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-XX:MaxInlineLevel=15',
  '-Djava.awt.headless=true',
];
const STARTUP_TIMEOUT_MS = 90_000;
const POLL_MS = 250;
/** Same cadence as coldstore's own offset.flush.interval.ms default; the sink uploads on each. */
const OFFSET_FLUSH_INTERVAL_MS = 5000;
/** Same as coldstore's bundle.max.records default. */
const FILE_MAX_RECORDS = 1000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function properties(entries: Record<string, string | number>): string {
  return `${Object.entries(entries)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

function getJson(port: number, path: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolveGet, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 5000 }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => {
        try {
          resolveGet({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null });
        } catch (err) {
          reject(err as Error);
        }
      });
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', reject);
    req.end();
  });
}

interface ConnectorStatus {
  connector: { state: string; trace?: string };
  tasks: { id: number; state: string; trace?: string }[];
}

async function stopJvm(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  if (await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)])) return;
  child.kill('SIGKILL');
  await exited;
}

/** Bytes a base64 field decodes to, without decoding it. */
function base64Length(field: string): number {
  if (field.length === 0) return 0;
  const padding = field.endsWith('==') ? 2 : field.endsWith('=') ? 1 : 0;
  return (field.length / 4) * 3 - padding;
}

/** Reads back everything the sink wrote: the run counts only what is really in S3. */
async function readBack(s3: S3Client, bucket: string): Promise<{ objects: number; records: number; bytes: number }> {
  let objects = 0;
  let records = 0;
  let bytes = 0;
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const item of page.Contents ?? []) {
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: item.Key! }));
      const text = gunzipSync(Buffer.from(await got.Body!.transformToByteArray())).toString('latin1');
      objects++;
      // CSV lines `key,value,offset,timestamp,headers`, key and value base64 (no commas in base64).
      for (const line of text.split('\n')) {
        if (line === '') continue;
        const [key = '', value = ''] = line.split(',', 2);
        records++;
        bytes += base64Length(key) + base64Length(value);
      }
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return { objects, records, bytes };
}

/** Backs `topic` up with Kafka Connect + Aiven's S3 sink (gzip), measuring time and memory. */
export async function runAivenPeer(options: PeerOptions): Promise<PeerRun> {
  const { log, topic, workDir } = options;
  const deadline = Date.now() + (options.timeoutMs ?? 15 * 60_000);
  const jars = await ensurePeerJars(log);
  mkdirSync(workDir, { recursive: true });

  const s3 = new S3Client({
    endpoint: options.s3.endpoint,
    region: options.s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: options.s3.accessKey, secretAccessKey: options.s3.secretKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  await s3.send(new CreateBucketCommand({ Bucket: options.s3.bucket })).catch((err: Error) => {
    if (err.name !== 'BucketAlreadyOwnedByYou' && err.name !== 'BucketAlreadyExists') throw err;
  });
  const existing = await s3.send(new ListObjectsV2Command({ Bucket: options.s3.bucket, MaxKeys: 1 }));
  if ((existing.KeyCount ?? 0) > 0) throw new Error(`peer: bucket ${options.s3.bucket} is not empty; give the peer a fresh bucket`);

  // A new name each run: a new consumer group, so the topic is read from its start.
  const name = `aiven-peer-${Date.now()}`;
  const group = `connect-${name}`;
  const restPort = await freePort();
  const files = {
    worker: join(workDir, 'worker.properties'),
    connector: join(workDir, 'connector.properties'),
    log4j: join(workDir, 'log4j.properties'),
    log: join(workDir, 'connect.log'),
  };
  writeFileSync(
    files.worker,
    properties({
      'bootstrap.servers': options.bootstrap,
      'key.converter': 'org.apache.kafka.connect.converters.ByteArrayConverter',
      'value.converter': 'org.apache.kafka.connect.converters.ByteArrayConverter',
      // Raw header bytes, which the sink's `headers` field requires.
      'header.converter': 'org.apache.kafka.connect.converters.ByteArrayConverter',
      'offset.storage.file.filename': join(workDir, 'connect.offsets'),
      'offset.flush.interval.ms': OFFSET_FLUSH_INTERVAL_MS,
      listeners: `http://127.0.0.1:${restPort}`,
      'plugin.path': jars.pluginPath,
    }),
  );
  writeFileSync(
    files.connector,
    properties({
      name,
      'connector.class': jars.connectorClass,
      'tasks.max': options.tasks ?? 1,
      topics: topic,
      'aws.access.key.id': options.s3.accessKey,
      'aws.secret.access.key': options.s3.secretKey,
      'aws.s3.bucket.name': options.s3.bucket,
      'aws.s3.endpoint': options.s3.endpoint,
      'aws.s3.region': options.s3.region,
      // Aiven's closest to coldstore's records: no topic/partition (they are in the object
      // key `<topic>-<partition>-<start offset>.gz`) and no timestamp type.
      'format.output.type': 'csv',
      'format.output.fields': 'key,value,offset,timestamp,headers',
      'format.output.fields.value.encoding': 'base64',
      // Aiven's own default key (used when no template is set), named explicitly.
      'file.name.template': '{{topic}}-{{partition}}-{{start_offset:padding=true}}.gz',
      'file.compression.type': 'gzip',
      'file.max.records': FILE_MAX_RECORDS,
    }),
  );
  writeFileSync(
    files.log4j,
    properties({
      'log4j.rootLogger': 'INFO, stdout',
      'log4j.appender.stdout': 'org.apache.log4j.ConsoleAppender',
      'log4j.appender.stdout.layout': 'org.apache.log4j.PatternLayout',
      'log4j.appender.stdout.layout.ConversionPattern': '[%d] %p %m (%c)%n',
      'log4j.logger.org.reflections': 'ERROR',
    }),
  );

  const admin = new KafkaLib.KafkaJS.Kafka({ kafkaJS: { brokers: [options.bootstrap], logLevel: KafkaLib.KafkaJS.logLevel.NOTHING } }).admin();
  await admin.connect();
  let child: ChildProcess | undefined;
  let killOnExit: (() => void) | undefined;
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    // Empty partitions get no commit at all, so only the others are waited for.
    const ends = new Map(offsets.filter((p) => p.high !== p.low).map((p) => [p.partition, Number(p.high)]));
    const expected = offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
    if (offsets.length !== options.partitions) log(`peer: topic ${topic} has ${offsets.length} partitions, not ${options.partitions}`);

    const heap = options.jvmHeap ?? DEFAULT_HEAP;
    log(`peer: starting Kafka Connect standalone (${heap.join(' ')}), REST on 127.0.0.1:${restPort}, log ${files.log}`);
    const out = openSync(files.log, 'w');
    const startedAt = performance.now();
    child = spawn(
      'java',
      [
        ...heap,
        ...JVM_PERFORMANCE_OPTS,
        `-Dlog4j.configuration=file:${files.log4j}`,
        '-cp',
        `${jars.connectLib}/*`,
        'org.apache.kafka.connect.cli.ConnectStandalone',
        files.worker,
        files.connector,
      ],
      { cwd: workDir, stdio: ['ignore', out, out] },
    );
    closeSync(out);
    const jvm = child;
    // A benchmark killed mid-run must not leave a JVM behind.
    killOnExit = () => jvm.kill('SIGKILL');
    process.once('exit', killOnExit);
    jvm.on('error', () => {}); // e.g. no `java`: reported just below; unhandled it would crash
    const pid = jvm.pid ?? (await new Promise<never>((_, reject) => jvm.once('error', reject)));
    const fail = (why: string) => new Error(`peer: ${why}\n--- last lines of ${files.log} ---\n${lastLines(files.log)}`);
    const alive = () => jvm.exitCode === null && jvm.signalCode === null;

    // Up: the connector and its task report RUNNING over REST.
    let running = false;
    let peak = 0;
    const startupDeadline = Math.min(deadline, Date.now() + STARTUP_TIMEOUT_MS);
    while (!running) {
      if (!alive()) throw fail(`Connect exited (${jvm.exitCode ?? jvm.signalCode}) during startup`);
      if (Date.now() > startupDeadline) throw fail(`connector ${name} was not RUNNING within ${((performance.now() - startedAt) / 1000).toFixed(0)} s`);
      const status = await getJson(restPort, `/connectors/${name}/status`).catch(() => undefined);
      const body = status?.status === 200 ? (status.body as ConnectorStatus) : undefined;
      const failed = [body?.connector, ...(body?.tasks ?? [])].find((s) => s?.state === 'FAILED');
      if (failed) throw fail(`connector ${name} FAILED:\n${failed.trace ?? ''}`);
      running = body?.connector.state === 'RUNNING' && body.tasks.length > 0 && body.tasks.every((t) => t.state === 'RUNNING');
      if (!running) await sleep(POLL_MS);
    }
    const startupSeconds = (performance.now() - startedAt) / 1000;
    log(`peer: connector RUNNING after ${startupSeconds.toFixed(1)} s`);

    // Done: the group's committed offsets reached the topic's end. The sink uploads everything
    // it holds before Connect commits, so a committed offset means the records before it are in S3.
    let lastLog = 0;
    for (;;) {
      peak = Math.max(peak, statusBytes(pid, 'VmHWM') ?? 0);
      if (!alive()) throw fail(`Connect exited (${jvm.exitCode ?? jvm.signalCode}) before the backup was complete`);
      if (Date.now() > deadline) throw fail(`backup not complete within ${(options.timeoutMs ?? 15 * 60_000) / 1000} s`);
      const committed = new Map(
        (await admin.fetchOffsets({ groupId: group, topics: [topic] }))[0]?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? [],
      );
      if ([...ends].every(([p, end]) => (committed.get(p) ?? -1) >= end)) break;
      if (performance.now() - lastLog > 5000) {
        lastLog = performance.now();
        const behind = [...ends].reduce((n, [p, end]) => n + end - Math.min(end, Math.max(0, committed.get(p) ?? 0)), 0);
        log(`peer: ${behind} offsets still to commit`);
        const status = await getJson(restPort, `/connectors/${name}/status`).catch(() => undefined);
        const failed = (status?.body as ConnectorStatus | undefined)?.tasks.find((t) => t.state === 'FAILED');
        if (failed) throw fail(`task FAILED:\n${failed.trace ?? ''}`);
      }
      await sleep(POLL_MS);
    }
    const seconds = (performance.now() - startedAt) / 1000;
    peak = Math.max(peak, statusBytes(pid, 'VmHWM') ?? 0);
    log(`peer: all offsets committed after ${seconds.toFixed(1)} s; peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB`);

    await stopJvm(jvm);
    child = undefined;
    const written = await readBack(s3, options.s3.bucket);
    if (written.records !== expected) {
      throw new Error(`peer: S3 holds ${written.records} records, the topic ${expected}; see ${files.log}`);
    }
    if (expected !== options.records) log(`peer: the topic holds ${expected} records, not ${options.records}`);
    log(`peer: ${written.records} records, ${(written.bytes / 2 ** 20).toFixed(1)} MiB of keys+values in ${written.objects} objects`);
    return { seconds, records: written.records, bytes: written.bytes, peakRssBytes: peak, objects: written.objects, startupSeconds };
  } finally {
    if (child) await stopJvm(child);
    if (killOnExit) process.off('exit', killOnExit);
    await admin.deleteGroups([group]).catch(() => {});
    await admin.disconnect();
    s3.destroy();
  }
}
