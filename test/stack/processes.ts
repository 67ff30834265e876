/**
 * Process bookkeeping of the local test stack: servers run detached with pid files, so they
 * outlive the process that started them and any later process can find, reuse or stop them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
import { paths, type ServiceName } from './layout.js';

const LOG_TAIL_LINES = 30;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Kills a server child of the test abruptly (like a crash or a network cut) and waits for it to be gone. */
export async function killAndWait(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const ended = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await ended;
}

function tail(file: string, lines = LOG_TAIL_LINES): string {
  if (!existsSync(file)) return `(${file} does not exist)`;
  const all = readFileSync(file, 'utf8').trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

export function failure(message: string, logFile: string): Error {
  return new Error(`${message}\n--- last ${LOG_TAIL_LINES} lines of ${logFile} ---\n${tail(logFile)}`);
}

/** Appends a marker so the log of each start is easy to find in a file kept across restarts. */
export function appendBanner(logFile: string, text: string): void {
  writeFileSync(logFile, `\n===== coldstore stack: ${text} at ${new Date().toISOString()} =====\n`, {
    flag: 'a',
  });
}

/** Runs a command to completion with stdout+stderr appended to `logFile`; returns its exit code. */
export async function runLogged(cmd: string, args: string[], logFile: string, cwd: string): Promise<number> {
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
export function isOurs(name: ServiceName, pid: number): boolean {
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

export function ourPid(name: ServiceName): number | null {
  const pid = readPid(name);
  return pid !== null && isOurs(name, pid) ? pid : null;
}

export function isPortOpen(port: number, timeoutMs = 1000): Promise<boolean> {
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

/** Starts a server detached (own session, output to its log file), records and returns its pid. */
export function spawnDetached(name: ServiceName, command: string, args: string[], missingHint: string): number {
  const p = paths(name);
  const fd = openSync(p.log, 'a');
  try {
    const child = spawn(command, args, { cwd: p.dir, detached: true, stdio: ['ignore', fd, fd] });
    child.once('error', () => {}); // e.g. no such program: reported below; unhandled it would crash
    if (child.pid === undefined) throw new Error(`${name}: could not run \`${command}\` (${missingHint})`);
    writeFileSync(p.pid, `${child.pid}\n`);
    child.unref(); // let the CLI exit while the server keeps running
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** kill() that tolerates the process having exited already. */
export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

export async function waitGone(name: ServiceName, pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isOurs(name, pid)) return true;
    await sleep(200);
  }
  return !isOurs(name, pid);
}
