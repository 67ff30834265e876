import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { waitFor } from './wait.js';
import { restCall, secureCall } from './rest.js';

const CLI = resolve(import.meta.dirname, '../../dist/app/cli/main.cjs');

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => done(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A real worker process (the built CLI), so tests can SIGKILL it like an operator's machine would. */
export class WorkerProcess {
  private child: ChildProcess | undefined;
  readonly url: string;
  readonly configPath: string;
  readonly logPath: string;
  /**
   * Runs the worker through this command, e.g. `ip netns exec <ns>` to put it in a network
   * namespace (test/nemesis/netns.ts). The prefix must exec the worker, not fork it, so
   * that pid and signals stay the worker's own.
   */
  commandPrefix: string[] = [];

  constructor(
    readonly dir: string,
    readonly port: number,
    config: Record<string, unknown>,
    /** A worker serving HTTPS with a self-signed certificate: health checks trust this CA. */
    private readonly tlsCa?: Buffer,
  ) {
    this.url = `${tlsCa ? 'https' : 'http'}://127.0.0.1:${port}`;
    this.configPath = join(dir, 'worker.json');
    this.logPath = join(dir, 'worker.log');
    writeFileSync(this.configPath, JSON.stringify({ 'rest.port': port, 'data.dir': join(dir, 'data'), ...config }));
  }

  /** Starts the worker; `env` adds variables (e.g. COLDSTORE_FAILPOINTS) for this run only. */
  async start(connectorFiles: string[] = [], env: Record<string, string> = {}): Promise<void> {
    const log = createWriteStream(this.logPath, { flags: 'a' });
    const command = [...this.commandPrefix, process.execPath, CLI, 'worker', '--config', this.configPath, ...connectorFiles];
    const child = spawn(command[0]!, command.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    this.child = child;
    // Ends at once if the process does (a failpoint's SIGKILL can come before the first health check).
    const ended = this.exited().then((code) => Promise.reject(new Error(`worker exited with ${code}; see ${this.logPath}`)));
    ended.catch(() => undefined);
    const healthy = waitFor('worker health', async () => {
      // Ended: `ended` says so; stop polling.
      if (child.exitCode !== null || child.signalCode !== null) return true;
      if (this.tlsCa) return (await secureCall(this.url, 'GET', '/health', { ca: this.tlsCa }).catch(() => undefined))?.status === 200;
      // Bounded: a request sent while the worker is cut off (a nemesis namespace) would wait out undici's 300 s otherwise.
      const res = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(3_000) }).catch(() => undefined);
      return res?.status === 200;
    });
    await Promise.race([healthy, ended]).catch((err: Error) => {
      // A worker that never became healthy: its own words say why (they are gone with its temp dir otherwise).
      const tail = existsSync(this.logPath) ? readFileSync(this.logPath, 'utf8').split('\n').slice(-15).join('\n') : '(no log)';
      throw new Error(`${err.message}\nworker log ${this.logPath} ends with:\n${tail}`);
    });
  }

  /**
   * Starts a worker armed to kill itself at a failpoint: 'started' once healthy, or 'died'
   * if the failpoint came first (then start() has nothing to wait for).
   */
  async startOrDie(connectorFiles: string[], env: Record<string, string>): Promise<'started' | 'died'> {
    try {
      await this.start(connectorFiles, env);
      return 'started';
    } catch (err) {
      if (this.pid === undefined) return 'died';
      throw err;
    }
  }

  /** Resolves with the exit code or signal once the process has ended by itself (e.g. at a failpoint). */
  exited(): Promise<number | string | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child?.exitCode ?? child?.signalCode ?? null);
    return new Promise((done) => child.once('exit', (code, signal) => done(code ?? signal)));
  }

  /** Sends a signal and waits for the process to end. */
  async kill(signal: NodeJS.Signals): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const ended = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    child.kill(signal);
    return ended;
  }

  /** The running process' id (undefined once it has ended or before the first start). */
  get pid(): number | undefined {
    const child = this.child;
    return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
  }

  /** Pauses the process (SIGSTOP), as a long GC pause or a frozen VM would: it keeps its sockets but does nothing. */
  pause(): void {
    if (this.pid !== undefined) process.kill(this.pid, 'SIGSTOP');
  }

  /** Resumes a paused process (SIGCONT); harmless on a running one. */
  resume(): void {
    if (this.pid !== undefined) process.kill(this.pid, 'SIGCONT');
  }

  /** True while the process is stopped (by pause() or by itself, e.g. at a failpoint `:stop`): state T in /proc. */
  isStopped(): boolean {
    const pid = this.pid;
    if (pid === undefined) return false;
    try {
      // /proc/<pid>/stat: "pid (comm) state ..."; comm may hold spaces, so read after the last ')'.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'T';
    } catch {
      return false;
    }
  }

  /**
   * Stops the worker cleanly: SIGCONT (a stopped process would never see SIGTERM), SIGTERM,
   * and SIGKILL if it has not exited within `timeoutMs`. Resolves with the exit code (null if killed).
   */
  async terminate(timeoutMs = 60_000): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const ended = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    this.resume();
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      this.resume();
      child.kill('SIGKILL');
    }, timeoutMs);
    try {
      return await ended;
    } finally {
      clearTimeout(timer);
    }
  }

  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    return restCall(this.url, method, path, body);
  }
}
