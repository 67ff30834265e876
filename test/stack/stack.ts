/**
 * The real local test stack (docs/reliability.md, "Running it"): a single-node KRaft Kafka and S3Proxy, both
 * run from Maven Central jars on loopback because there is no Docker on our machines, and moto's KMS server
 * from a Python venv (test/stack/kms.ts; its keys live in memory only and a restart loses them).
 *
 * Everything lives under `<repo>/.stack/` (git-ignored). Servers are started detached with
 * pid files, so they outlive the process that started them (the CLI exits after `up`) and
 * any later process (another CLI call, vitest's globalSetup) can find, reuse or stop them.
 * Only Node built-ins are used.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureJars, JAR_SERVICES } from './jars.js';
import { kafkaAnswers, launchKafka } from './kafka.js';
import { ensureMoto, kmsAnswers, launchKms } from './kms.js';
import {
  boundPorts,
  endpointOf,
  paths,
  PORT_VARIABLES,
  SERVICES,
  servicePort,
  STACK_DIR,
  stackEndpoints,
  type ServiceName,
  type StackEndpoints,
} from './layout.js';
import { failure, isOurs, isPortOpen, ourPid, signal, sleep, waitGone } from './processes.js';
import { launchS3, s3Answers } from './s3proxy.js';

export { fetchStackJars } from './jars.js';
export { KAFKA_LOG4J, kafkaClusterId } from './kafka.js';
export { SERVICES, stackEndpoints, type ServiceName, type StackEndpoints } from './layout.js';
export { PrivateS3, removeInterruptedPuts } from './s3proxy.js';

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

const READY_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 10_000;

function isHealthy(name: ServiceName): Promise<boolean> {
  const answers = { kafka: kafkaAnswers, s3: s3Answers, kms: kmsAnswers }[name];
  return answers(servicePort(name));
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

async function launch(name: ServiceName): Promise<number> {
  if (name === 'kafka') return launchKafka();
  if (name === 's3') return launchS3();
  return launchKms();
}

// ---------------------------------------------------------------------------------------
// Start / stop (unlocked; the exported functions below serialize them)

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
      throw new Error(
        `${name}: port ${port} is in use by another process that is not a healthy ${name} of this stack. ` +
          `Stop that process or choose other ports with ${PORT_VARIABLES[name]}.`,
      );
    }
  }
  log(`${name}: starting on ${endpointOf(name)}…`);
  const pid = await launch(name);
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

async function up(options: StackUpOptions): Promise<StackUpResult> {
  const log = options.log ?? (() => {});
  // Sequential: two concurrent mvn runs would race on the same ~/.m2 files.
  for (const name of JAR_SERVICES) await ensureJars(name, log);
  await ensureMoto(log);
  if (options.fresh) {
    await down();
    for (const name of JAR_SERVICES) rmSync(paths(name).data, { recursive: true, force: true });
    log('wiped kafka and s3proxy data (kms keeps none)');
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
// starters would both spawn a server and overwrite each other's pid file. A lock file holding
// the owner's pid serializes them; a lock left by a dead process is taken over.

const LOCK_FILE = join(STACK_DIR, 'stack.lock');
const LOCK_WAIT_MS = 10 * 60_000; // first run: Maven fetch, moto install, then 90 s start timeouts

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

/** Brings every server up (fetching jars and moto on first use) and waits until they answer. */
export function stackUp(options: StackUpOptions = {}): Promise<StackUpResult> {
  return withLock(() => up(options));
}

/** Stops every server of this checkout; returns the ones that were running. Idempotent. */
export function stackDown(): Promise<ServiceName[]> {
  return withLock(down);
}

/**
 * Starts one service, keeping its data (Kafka storage is formatted only once; KMS keys are
 * lost with the process), e.g. after `stopService` in a fault-injection test. Idempotent: a
 * running server of ours is reused once it answers; a port held by anything else is an error
 * unless it answers like the service (then it is reused as "external"). Jars and moto must be
 * installed already (`stackUp`).
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
