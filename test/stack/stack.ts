/**
 * The real local test stack (docs/reliability.md, "Running it"): a single-node KRaft Kafka and S3Proxy, both
 * run from Maven Central jars on loopback, because there is no Docker on our machines.
 *
 * Everything lives under `<repo>/.stack/` (git-ignored). Servers are started detached with
 * pid files, so they outlive the process that started them (the CLI exits after `up`) and
 * any later process (another CLI call, vitest's globalSetup) can find, reuse or stop them.
 * Only Node built-ins are used.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ServiceName = 'kafka' | 's3';
export const SERVICES: readonly ServiceName[] = ['kafka', 's3'];

export interface StackEndpoints {
  kafkaBootstrap: string;
  s3Endpoint: string;
  s3AccessKey: string;
  s3SecretKey: string;
  s3Region: string;
}

export interface StackUpOptions {
  /** Stop the servers and wipe their data dirs before starting (the jar cache is kept). */
  fresh?: boolean;
  /** Progress lines (fetching jars, starting, ready). Silent by default. */
  log?: (line: string) => void;
}

export interface StackUpResult {
  endpoints: StackEndpoints;
  /** Services this call started; a caller that wants to undo its own `up` stops only these. */
  started: ServiceName[];
  /** Services that were already running and healthy, and were left as they were. */
  reused: ServiceName[];
}

/**
 * running: our pid file's process is alive and the server answers.
 * external: the port answers but no process of ours owns it (e.g. started by hand).
 * unhealthy: our process is alive but the server does not answer (starting, or hung).
 */
export type ServiceState = 'running' | 'external' | 'unhealthy' | 'stopped';

export interface ServiceStatus {
  name: ServiceName;
  state: ServiceState;
  pid: number | null;
  endpoint: string;
  logFile: string;
}

export type StartOutcome = 'started' | 'reused';

const S3_ACCESS_KEY = 'coldstore';
const S3_SECRET_KEY = 'coldstore-secret';
const S3_REGION = 'us-east-1';
const S3PROXY_VERSION = '4.1.0';
const READY_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 10_000;
const LOG_TAIL_LINES = 30;

// ---------------------------------------------------------------------------------------
// Layout and configuration

/** test/stack/stack.ts -> repo root; works from any cwd. */
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const STACK_DIR = join(REPO_ROOT, '.stack');
const MAVEN_LOG = join(STACK_DIR, 'maven.log');
const KAFKA_POM = join(REPO_ROOT, 'test', 'stack', 'maven', 'pom.xml');

interface ServicePaths {
  dir: string;
  data: string;
  lib: string;
  config: string;
  log: string;
  pid: string;
}

function paths(name: ServiceName): ServicePaths {
  const dir = join(STACK_DIR, name === 'kafka' ? 'kafka' : 's3proxy');
  return {
    dir,
    data: join(dir, 'data'),
    lib: join(STACK_DIR, 'lib', name === 'kafka' ? 'kafka' : 's3proxy'),
    config: join(dir, name === 'kafka' ? 'server.properties' : 's3proxy.conf'),
    log: join(dir, name === 'kafka' ? 'kafka.log' : 's3proxy.log'),
    pid: join(dir, name === 'kafka' ? 'kafka.pid' : 's3proxy.pid'),
  };
}

function portFromEnv(variable: string, fallback: number): number {
  const raw = process.env[variable];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  // 65534: Kafka's controller listens on port + 1.
  if (!Number.isInteger(port) || port < 1 || port > 65534) {
    throw new Error(`${variable}=${raw} is not a valid TCP port`);
  }
  return port;
}

/** Read at call time, not import time, so tests and the CLI can set the env first. */
function ports(): { kafka: number; kafkaController: number; s3: number } {
  const kafka = portFromEnv('COLDSTORE_STACK_KAFKA_PORT', 39092);
  return { kafka, kafkaController: kafka + 1, s3: portFromEnv('COLDSTORE_STACK_S3_PORT', 39000) };
}

export function stackEndpoints(): StackEndpoints {
  const p = ports();
  return {
    kafkaBootstrap: `127.0.0.1:${p.kafka}`,
    s3Endpoint: `http://127.0.0.1:${p.s3}`,
    s3AccessKey: S3_ACCESS_KEY,
    s3SecretKey: S3_SECRET_KEY,
    s3Region: S3_REGION,
  };
}

function endpointOf(name: ServiceName): string {
  const e = stackEndpoints();
  return name === 'kafka' ? e.kafkaBootstrap : e.s3Endpoint;
}

function servicePort(name: ServiceName): number {
  return name === 'kafka' ? ports().kafka : ports().s3;
}

// ---------------------------------------------------------------------------------------
// Small helpers

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function tail(file: string, lines = LOG_TAIL_LINES): string {
  if (!existsSync(file)) return `(${file} does not exist)`;
  const all = readFileSync(file, 'utf8').trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

function failure(message: string, logFile: string): Error {
  return new Error(`${message}\n--- last ${LOG_TAIL_LINES} lines of ${logFile} ---\n${tail(logFile)}`);
}

/** Appends a marker so the log of each start is easy to find in a file kept across restarts. */
function appendBanner(logFile: string, text: string): void {
  writeFileSync(logFile, `\n===== coldstore stack: ${text} at ${new Date().toISOString()} =====\n`, {
    flag: 'a',
  });
}

/** Runs a command to completion with stdout+stderr appended to `logFile`; returns its exit code. */
async function runLogged(cmd: string, args: string[], logFile: string, cwd: string): Promise<number> {
  const fd = openSync(logFile, 'a');
  try {
    writeSync(fd, `$ ${cmd} ${args.join(' ')}\n`);
    return await new Promise<number>((resolvePromise, reject) => {
      const child = spawn(cmd, args, { cwd, stdio: ['ignore', fd, fd] });
      child.once('error', reject);
      child.once('exit', (code) => resolvePromise(code ?? 1));
    });
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------
// Jars from Maven Central (fetched once; a marker written after success makes it idempotent)

async function ensureJars(name: ServiceName, log: (line: string) => void): Promise<void> {
  const lib = paths(name).lib;
  const marker = join(lib, '.fetched');
  // The marker names what was fetched, so a version bump in the pom fetches again.
  const wanted = name === 'kafka' ? readFileSync(KAFKA_POM, 'utf8') : `s3proxy ${S3PROXY_VERSION}`;
  if (existsSync(marker) && readFileSync(marker, 'utf8') === wanted) return;
  rmSync(lib, { recursive: true, force: true });
  mkdirSync(lib, { recursive: true });
  log(`fetching ${name} jars from Maven Central into ${lib} (first run only)…`);
  const args =
    name === 'kafka'
      ? ['-B', '-q', '-f', KAFKA_POM, 'dependency:copy-dependencies', `-DoutputDirectory=${lib}`, '-DincludeScope=runtime']
      : ['-B', '-q', 'dependency:copy', `-Dartifact=org.gaul:s3proxy:${S3PROXY_VERSION}:jar:jar-with-dependencies`, `-DoutputDirectory=${lib}`];
  appendBanner(MAVEN_LOG, `fetching ${name}`);
  // cwd = the lib dir, so `dependency:copy` never picks up an unrelated pom.xml.
  const code = await runLogged('mvn', args, MAVEN_LOG, lib).catch((err: Error) => {
    throw failure(`could not run mvn (is Maven installed?): ${err.message}`, MAVEN_LOG);
  });
  if (code !== 0) throw failure(`mvn failed (exit ${code}) fetching ${name} jars`, MAVEN_LOG);
  writeFileSync(marker, wanted);
}

/** Fetches every server's jars without starting anything (setup scripts, CI caches). */
export async function fetchStackJars(log: (line: string) => void = () => {}): Promise<void> {
  for (const name of SERVICES) await ensureJars(name, log);
}

// ---------------------------------------------------------------------------------------
// Process bookkeeping

function readPid(name: ServiceName): number | null {
  const file = paths(name).pid;
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/**
 * True when `pid` is a live server of *this* checkout: its command line names our config
 * file (absolute path). That rejects recycled pids, zombies (empty cmdline) and the same
 * server started from another checkout.
 */
function isOurs(name: ServiceName, pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(paths(name).config);
  } catch {
    return process.platform !== 'linux'; // no /proc: trust kill(0)
  }
}

function ourPid(name: ServiceName): number | null {
  const pid = readPid(name);
  return pid !== null && isOurs(name, pid) ? pid : null;
}

function isPortOpen(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (open: boolean) => {
      socket.destroy();
      resolvePromise(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Starts a JVM detached (own session, output to its log file), records and returns its pid. */
function spawnDetached(name: ServiceName, args: string[]): number {
  const p = paths(name);
  const fd = openSync(p.log, 'a');
  try {
    const child = spawn('java', args, { cwd: p.dir, detached: true, stdio: ['ignore', fd, fd] });
    child.once('error', () => {}); // e.g. no `java`: reported below; unhandled it would crash
    if (child.pid === undefined) throw new Error(`${name}: could not run \`java\` (is Java 17 on PATH?)`);
    writeFileSync(p.pid, `${child.pid}\n`);
    child.unref(); // let the CLI exit while the server keeps running
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------
// Health checks

/**
 * Kafka is ready when it answers a Metadata request (v4, no topics) with at least one
 * broker. The broker only lists itself once it has registered with the controller and
 * caught up on metadata, so this is stricter than a TCP connect and needs no client
 * library or log parsing. v4 is valid on Kafka 3.x and 4.x (KIP-896 removed only v0–v3).
 */
function kafkaAnswers(port: number, timeoutMs = 2000): Promise<boolean> {
  const clientId = Buffer.from('coldstore-stack');
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length + 4 + 1);
  let o = 0;
  o = body.writeInt16BE(3, o); // api_key: Metadata
  o = body.writeInt16BE(4, o); // api_version
  o = body.writeInt32BE(7, o); // correlation_id
  o = body.writeInt16BE(clientId.length, o);
  o += clientId.copy(body, o);
  o = body.writeInt32BE(0, o); // topics: empty array = none (null would mean all)
  body.writeInt8(0, o); // allow_auto_topic_creation
  const frame = Buffer.concat([Buffer.alloc(4), body]);
  frame.writeInt32BE(body.length, 0);

  return new Promise((resolvePromise) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = Buffer.alloc(0);
    const done = (ok: boolean) => {
      socket.destroy();
      resolvePromise(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
    socket.once('connect', () => socket.write(frame));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      // size(4) correlation_id(4) throttle_time_ms(4) brokers.length(4)
      if (received.length < 16) return;
      done(received.readInt32BE(4) === 7 && received.readInt32BE(12) >= 1);
    });
  });
}

/** S3Proxy is up when it answers HTTP at all; an anonymous GET / gets 403, which is fine. */
function s3Answers(port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const req = request({ host: '127.0.0.1', port, path: '/', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolvePromise(true);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolvePromise(false));
    req.end();
  });
}

function isHealthy(name: ServiceName): Promise<boolean> {
  return name === 'kafka' ? kafkaAnswers(ports().kafka) : s3Answers(ports().s3);
}

/** Polls until healthy; fails fast (with the log tail) if the server process `pid` dies. */
async function waitHealthy(name: ServiceName, pid: number): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await isHealthy(name)) return;
    if (!isOurs(name, pid)) throw failure(`${name} (pid ${pid}) exited during startup`, paths(name).log);
    await sleep(500);
  }
  throw failure(`${name} did not become healthy on ${endpointOf(name)} within ${READY_TIMEOUT_MS / 1000} s`, paths(name).log);
}

// ---------------------------------------------------------------------------------------
// Kafka

function kafkaServerProperties(): string {
  const p = ports();
  return [
    '# Written by test/stack/stack.ts on every start; edits are overwritten.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${p.kafkaController}`,
    `listeners=PLAINTEXT://127.0.0.1:${p.kafka},CONTROLLER://127.0.0.1:${p.kafkaController}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${p.kafka}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${paths('kafka').data}`,
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    // Compaction within seconds, so tests can back up compacted topics with real offset gaps.
    'log.cleaner.backoff.ms=500',
    '',
  ].join('\n');
}

/** The broker's log4j settings: INFO to stdout, request and state-change chatter at WARN. */
export const KAFKA_LOG4J = [
  'log4j.rootLogger=INFO, stdout',
  'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
  'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
  'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
  'log4j.logger.kafka.request.logger=WARN',
  'log4j.logger.state.change.logger=WARN',
  '',
].join('\n');

function kafkaJvmArgs(heap: string | null): string[] {
  const p = paths('kafka');
  const log4j = join(p.dir, 'log4j.properties');
  return [...(heap ? [heap] : []), '-cp', `${p.lib}/*`, `-Dlog4j.configuration=file:${log4j}`];
}

/** Kafka's own id format (Uuid.toString): url-safe base64 of a random UUID, unpadded. */
export function kafkaClusterId(): string {
  for (;;) {
    const id = Buffer.from(randomUUID().replaceAll('-', ''), 'hex').toString('base64url');
    if (!id.startsWith('-')) return id; // Kafka rejects ids that look like CLI flags
  }
}

/** Formats storage only once: a restart must keep the data (fault-injection tests rely on it). */
async function formatKafkaIfNeeded(): Promise<void> {
  const p = paths('kafka');
  if (existsSync(join(p.data, 'meta.properties'))) return;
  appendBanner(p.log, 'formatting storage');
  const args = [...kafkaJvmArgs(null), 'kafka.tools.StorageTool', 'format', '-t', kafkaClusterId(), '-c', p.config];
  const code = await runLogged('java', args, p.log, p.dir);
  if (code !== 0) throw failure(`kafka storage format failed (exit ${code})`, p.log);
}

async function launchKafka(): Promise<number> {
  const p = paths('kafka');
  mkdirSync(p.data, { recursive: true });
  writeFileSync(p.config, kafkaServerProperties());
  writeFileSync(join(p.dir, 'log4j.properties'), KAFKA_LOG4J);
  await formatKafkaIfNeeded();
  appendBanner(p.log, 'starting kafka');
  return spawnDetached('kafka', [...kafkaJvmArgs('-Xmx768m'), 'kafka.Kafka', p.config]);
}

// ---------------------------------------------------------------------------------------
// S3Proxy

function s3proxyConf(port = ports().s3, basedir = paths('s3').data): string {
  return [
    '# Written by test/stack/stack.ts on every start; edits are overwritten.',
    `s3proxy.endpoint=http://127.0.0.1:${port}`,
    's3proxy.authorization=aws-v2-or-v4',
    `s3proxy.identity=${S3_ACCESS_KEY}`,
    `s3proxy.credential=${S3_SECRET_KEY}`,
    'jclouds.provider=filesystem',
    `jclouds.filesystem.basedir=${basedir}`,
    '',
  ].join('\n');
}

/**
 * S3Proxy's filesystem store writes each PUT to `<key>-<random UUID>` beside the key and
 * renames it when complete. A killed server leaves that file behind, and the next one
 * lists it as an object, which real S3 never does (a PUT is atomic there). Removing them
 * before a start keeps the emulator's crashes from looking like stray objects in a backup.
 */
const INTERRUPTED_PUT = /-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function removeInterruptedPuts(dataDir: string): string[] {
  if (!existsSync(dataDir)) return [];
  const removed: string[] = [];
  for (const entry of readdirSync(dataDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !INTERRUPTED_PUT.test(entry.name)) continue;
    const file = join(entry.parentPath, entry.name);
    rmSync(file, { force: true });
    removed.push(file);
  }
  return removed;
}

async function launchS3(): Promise<number> {
  const p = paths('s3');
  mkdirSync(p.data, { recursive: true });
  for (const file of removeInterruptedPuts(p.data)) appendBanner(p.log, `removed ${file}, left by an interrupted PUT`);
  writeFileSync(p.config, s3proxyConf());
  appendBanner(p.log, 'starting s3proxy');
  const jar = join(p.lib, `s3proxy-${S3PROXY_VERSION}-jar-with-dependencies.jar`);
  return spawnDetached('s3', ['-Xmx512m', '-jar', jar, '--properties', p.config]);
}

// ---------------------------------------------------------------------------------------
// Start / stop (unlocked; the exported functions below serialize them)

/** The ports a service binds: Kafka also needs its controller port. */
function boundPorts(name: ServiceName): number[] {
  const p = ports();
  return name === 'kafka' ? [p.kafka, p.kafkaController] : [p.s3];
}

async function start(name: ServiceName, log: (line: string) => void): Promise<StartOutcome> {
  mkdirSync(paths(name).dir, { recursive: true });
  const running = ourPid(name);
  if (running !== null) {
    await waitHealthy(name, running); // may still be starting (e.g. an `up` that was interrupted)
    return 'reused';
  }
  if ((await isPortOpen(servicePort(name))) && (await isHealthy(name))) {
    log(`${name}: ${endpointOf(name)} already answers but was not started by this stack; using it`);
    return 'reused';
  }
  for (const port of boundPorts(name)) {
    if (await isPortOpen(port)) {
      const variable = name === 'kafka' ? 'COLDSTORE_STACK_KAFKA_PORT' : 'COLDSTORE_STACK_S3_PORT';
      throw new Error(
        `${name}: port ${port} is in use by another process that is not a healthy ${name} of this stack. ` +
          `Stop that process or choose other ports with ${variable}.`,
      );
    }
  }
  log(`${name}: starting on ${endpointOf(name)}…`);
  const pid = name === 'kafka' ? await launchKafka() : await launchS3();
  try {
    await waitHealthy(name, pid);
  } catch (err) {
    await stop(name); // a hung server would otherwise make every later `up` wait again
    throw err;
  }
  log(`${name}: ready (pid ${pid})`);
  return 'started';
}

async function stop(name: ServiceName): Promise<boolean> {
  const pidFile = paths(name).pid;
  const pid = ourPid(name);
  if (pid === null) {
    rmSync(pidFile, { force: true }); // stale
    return false;
  }
  signal(pid, 'SIGTERM');
  if (!(await waitGone(name, pid, STOP_GRACE_MS))) {
    signal(pid, 'SIGKILL');
    await waitGone(name, pid, 5_000);
  }
  rmSync(pidFile, { force: true });
  return true;
}

/** kill() that tolerates the process having exited already. */
function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

async function waitGone(name: ServiceName, pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isOurs(name, pid)) return true;
    await sleep(200);
  }
  return !isOurs(name, pid);
}

async function up(options: StackUpOptions): Promise<StackUpResult> {
  const log = options.log ?? (() => {});
  // Sequential: two concurrent mvn runs would race on the same ~/.m2 files.
  for (const name of SERVICES) await ensureJars(name, log);
  if (options.fresh) {
    await down();
    for (const name of SERVICES) rmSync(paths(name).data, { recursive: true, force: true });
    log('wiped kafka and s3proxy data');
  }
  const outcomes = await Promise.allSettled(SERVICES.map((name) => start(name, log)));
  const started = SERVICES.filter((_, i) => settledValue(outcomes[i]) === 'started');
  const errors = outcomes.flatMap((o) => (o.status === 'rejected' ? [errorText(o.reason)] : []));
  if (errors.length > 0) {
    // All or nothing: a half-started stack would outlive a failed test run (its teardown never runs).
    for (const name of started) await stop(name);
    throw new Error(errors.join('\n\n'));
  }
  return {
    endpoints: stackEndpoints(),
    started,
    reused: SERVICES.filter((_, i) => settledValue(outcomes[i]) === 'reused'),
  };
}

async function down(): Promise<ServiceName[]> {
  const stopped = await Promise.all(SERVICES.map((name) => stop(name)));
  return SERVICES.filter((_, i) => stopped[i]);
}

function settledValue<T>(result: PromiseSettledResult<T> | undefined): T | undefined {
  return result?.status === 'fulfilled' ? result.value : undefined;
}

function errorText(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}

// ---------------------------------------------------------------------------------------
// Lock: `npm run stack -- up` and a test run (or two vitest projects) may act at once; two
// starters would both spawn a JVM and overwrite each other's pid file. A lock file holding
// the owner's pid serializes them; a lock left by a dead process is taken over.

const LOCK_FILE = join(STACK_DIR, 'stack.lock');
const LOCK_WAIT_MS = 10 * 60_000; // first run: Maven fetch plus two 90 s start timeouts

function lockHolderAlive(): boolean {
  try {
    process.kill(Number(readFileSync(LOCK_FILE, 'utf8').trim()), 0);
    return true;
  } catch {
    return false; // no lock file, unreadable pid, or the holder is gone
  }
}

async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  mkdirSync(STACK_DIR, { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      writeFileSync(LOCK_FILE, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (!lockHolderAlive()) rmSync(LOCK_FILE, { force: true });
      else if (Date.now() > deadline) throw new Error(`timed out waiting for ${LOCK_FILE} (another stack command is running)`);
      else await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK_FILE, { force: true });
  }
}

// ---------------------------------------------------------------------------------------
// Public API

/** Brings both servers up (fetching jars on first use) and waits until they answer. */
export function stackUp(options: StackUpOptions = {}): Promise<StackUpResult> {
  return withLock(() => up(options));
}

/** Stops both servers of this checkout; returns the ones that were running. Idempotent. */
export function stackDown(): Promise<ServiceName[]> {
  return withLock(down);
}

/**
 * Starts one service, keeping its data (Kafka storage is formatted only once), e.g. after
 * `stopService` in a fault-injection test. Idempotent: a running server of ours is reused
 * once it answers; a port held by anything else is an error unless it answers like the
 * service (then it is reused as "external"). Jars must be fetched already (`stackUp`).
 */
export function startService(name: ServiceName, options: Pick<StackUpOptions, 'log'> = {}): Promise<StartOutcome> {
  return withLock(() => start(name, options.log ?? (() => {})));
}

/** Stops our server of `name` (SIGTERM, SIGKILL after 10 s); data is kept. Idempotent. */
export function stopService(name: ServiceName): Promise<boolean> {
  return withLock(() => stop(name));
}

export async function stackStatus(): Promise<ServiceStatus[]> {
  return Promise.all(
    SERVICES.map(async (name): Promise<ServiceStatus> => {
      const pid = ourPid(name);
      const healthy = await isHealthy(name);
      const state: ServiceState = pid !== null ? (healthy ? 'running' : 'unhealthy') : healthy ? 'external' : 'stopped';
      return { name, state, pid, endpoint: endpointOf(name), logFile: paths(name).log };
    }),
  );
}

/**
 * An S3 server owned by one test (its own port and data), so fault tests can stop
 * and restart it without disturbing tests that share the stack's server.
 */
export class PrivateS3 {
  private child: import('node:child_process').ChildProcess | undefined;
  readonly endpoint: string;

  constructor(
    private readonly dir: string,
    readonly port: number,
  ) {
    this.endpoint = `http://127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
    const data = join(this.dir, 'data');
    mkdirSync(data, { recursive: true });
    removeInterruptedPuts(data);
    const config = join(this.dir, 's3proxy.conf');
    writeFileSync(config, s3proxyConf(this.port, data));
    const jar = join(paths('s3').lib, `s3proxy-${S3PROXY_VERSION}-jar-with-dependencies.jar`);
    const log = openSync(join(this.dir, 's3proxy.log'), 'a');
    this.child = spawn('java', ['-Xmx256m', '-jar', jar, '--properties', config], { stdio: ['ignore', log, log] });
    closeSync(log);
    const deadline = Date.now() + 60_000;
    while (!(await s3Answers(this.port))) {
      if (Date.now() > deadline || this.child.exitCode !== null)
        throw new Error(`private S3Proxy on ${this.port} did not start; see ${join(this.dir, 's3proxy.log')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Stops the server abruptly (like a crash or a network cut); its data stays. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const ended = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await ended;
  }
}
