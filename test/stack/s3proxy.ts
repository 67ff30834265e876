/** The stack's S3 server: S3Proxy with its filesystem store, run from its Maven Central jar. */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { paths, ports, S3_ACCESS_KEY, S3_SECRET_KEY } from './layout.js';
import { appendBanner, killAndWait, spawnDetached } from './processes.js';

export const S3PROXY_VERSION = '4.1.0';

/** S3Proxy is up when it answers HTTP at all; an anonymous GET / gets 403, which is fine. */
export function s3Answers(port: number, timeoutMs = 2000): Promise<boolean> {
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

function s3proxyConf(port = ports().s3, basedir = paths('s3').data): string {
  return [
    '# Written by test/stack/s3proxy.ts on every start; edits are overwritten.',
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

function s3proxyJar(): string {
  return join(paths('s3').lib, `s3proxy-${S3PROXY_VERSION}-jar-with-dependencies.jar`);
}

export async function launchS3(): Promise<number> {
  const p = paths('s3');
  mkdirSync(p.data, { recursive: true });
  for (const file of removeInterruptedPuts(p.data)) appendBanner(p.log, `removed ${file}, left by an interrupted PUT`);
  writeFileSync(p.config, s3proxyConf());
  appendBanner(p.log, 'starting s3proxy');
  return spawnDetached('s3', 'java', ['-Xmx512m', '-jar', s3proxyJar(), '--properties', p.config], 'is Java 17 on PATH?');
}

/**
 * An S3 server owned by one test (its own port and data), so fault tests can stop
 * and restart it without disturbing tests that share the stack's server.
 */
export class PrivateS3 {
  private child: ChildProcess | undefined;
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
    const log = openSync(join(this.dir, 's3proxy.log'), 'a');
    this.child = spawn('java', ['-Xmx256m', '-jar', s3proxyJar(), '--properties', config], { stdio: ['ignore', log, log] });
    closeSync(log);
    const deadline = Date.now() + 60_000;
    while (!(await s3Answers(this.port))) {
      if (Date.now() > deadline || this.child.exitCode !== null)
        throw new Error(`private S3Proxy on ${this.port} did not start; see ${join(this.dir, 's3proxy.log')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** The server's JVM while it runs (a nemesis pauses it with SIGSTOP). */
  get pid(): number | undefined {
    return this.child && this.child.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  /** Stops the server abruptly (like a crash or a network cut); its data stays. */
  stop(): Promise<void> {
    return killAndWait(this.child);
  }
}
