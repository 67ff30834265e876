import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { waitFor } from './wait.js';
import { restCall } from './rest.js';

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

  constructor(
    readonly dir: string,
    readonly port: number,
    config: Record<string, unknown>,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.configPath = join(dir, 'worker.json');
    this.logPath = join(dir, 'worker.log');
    writeFileSync(this.configPath, JSON.stringify({ 'rest.port': port, 'data.dir': join(dir, 'data'), ...config }));
  }

  /** Starts the worker; `env` adds variables (e.g. COLDSTORE_FAILPOINTS) for this run only. */
  async start(connectorFiles: string[] = [], env: Record<string, string> = {}): Promise<void> {
    const log = createWriteStream(this.logPath, { flags: 'a' });
    const child = spawn(process.execPath, [CLI, 'worker', '--config', this.configPath, ...connectorFiles], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    this.child = child;
    await waitFor('worker health', async () => {
      if (child.exitCode !== null) throw new Error(`worker exited with ${child.exitCode}; see ${this.logPath}`);
      const res = await fetch(`${this.url}/health`).catch(() => undefined);
      return res?.status === 200;
    });
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

  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    return restCall(this.url, method, path, body);
  }
}
