// The image's HEALTHCHECK script (deploy/docker/healthcheck.mjs), run as the image runs
// it, against real HTTP and HTTPS servers: it asks /health where the worker config says
// the worker listens, trusts the configured CA, and fails on anything but a 2xx.
// It imports the worker config parser from dist/ (npx tsc -p tsconfig.json).
import { selfSignedCertificate } from '../helpers/certs.js';
import { afterEach, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { tmpDir } from '../helpers/tmp.js';
import { ROOT } from '../helpers/repo-files.js';

const SCRIPT = join(ROOT, 'deploy/docker/healthcheck.mjs');
const dir = tmpDir('healthcheck');

interface Probe {
  code: number;
  stderr: string;
}

function runHealthcheck(config: Record<string, unknown>): Promise<Probe> {
  const file = join(dir, `worker-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify({ 'bootstrap.servers': 'kafka:9092', ...config }));
  return new Promise((resolve) => {
    execFile(process.execPath, [SCRIPT, file], { cwd: dir }, (err, _stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stderr });
    });
  });
}

/** A self-signed certificate for `name` (DNS), as a cluster's workers would carry. */
const certificate = (name: string) => selfSignedCertificate(dir, name, `DNS:${name}`);

const servers: Server[] = [];
const requested: string[] = [];

async function listen(server: Server, status: number): Promise<number> {
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    requested.push(`${req.method} ${req.url}`);
    res.writeHead(req.url === '/health' ? status : 404).end();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  requested.length = 0;
});

describe('deploy/docker/healthcheck.mjs', () => {
  it('asks GET /health on the configured port of a worker bound to every address', async () => {
    const port = await listen(createHttpServer(), 200);
    const probe = await runHealthcheck({ 'rest.host': '0.0.0.0', 'rest.port': port });
    expect(probe).toEqual({ code: 0, stderr: '' });
    expect(requested).toEqual(['GET /health']);
  });

  it("without an argument, reads the config named by the main process's --config, relative to its directory", async () => {
    const port = await listen(createHttpServer(), 200);
    const workdir = tmpDir('healthcheck-main');
    mkdirSync(join(workdir, 'etc'));
    writeFileSync(join(workdir, 'etc/w.json'), JSON.stringify({ 'bootstrap.servers': 'kafka:9092', 'rest.host': '0.0.0.0', 'rest.port': port }));
    // Stands in for the worker: a process with the worker's arguments, in its own directory.
    const main = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'worker', '--config', 'etc/w.json'], { cwd: workdir, stdio: 'ignore' });
    try {
      const probe = await new Promise<Probe>((resolve) => {
        execFile(process.execPath, [SCRIPT], { cwd: dir, env: { ...process.env, COLDSTORE_MAIN_PID: String(main.pid) } }, (err, _stdout, stderr) => {
          resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stderr });
        });
      });
      expect(probe).toEqual({ code: 0, stderr: '' });
      expect(requested).toEqual(['GET /health']);
    } finally {
      main.kill();
    }
  });

  it('fails when /health is not 2xx, naming the answer', async () => {
    const port = await listen(createHttpServer(), 503);
    const probe = await runHealthcheck({ 'rest.host': '127.0.0.1', 'rest.port': port });
    expect(probe.code).toBe(1);
    expect(probe.stderr).toContain(`http://127.0.0.1:${port}/health answered 503`);
  });

  it('fails when nothing listens on the configured port', async () => {
    const port = await listen(createHttpServer(), 200);
    await new Promise((resolve) => servers.pop()?.close(resolve));
    const probe = await runHealthcheck({ 'rest.host': '0.0.0.0', 'rest.port': port });
    expect(probe.code).toBe(1);
    expect(probe.stderr).toContain('ECONNREFUSED');
  });

  it('fails on an invalid worker config, with the parser’s reason', async () => {
    const probe = await runHealthcheck({ 'rest.port': 0 });
    expect(probe.code).toBe(1);
    expect(probe.stderr).toContain('rest.port 0');
    const bad = await runHealthcheck({ 'rest.port': 'eighty' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('rest.port');
  });

  describe('with rest.tls.*', () => {
    const worker = certificate('worker-0.coldstore.example');
    const other = certificate('other.example');
    const tlsServer = () => createHttpsServer({ cert: readFileSync(worker.cert), key: readFileSync(worker.key) });
    const tlsConfig = (port: number, extra: Record<string, unknown> = {}) => ({
      'rest.host': '0.0.0.0',
      'rest.port': port,
      'rest.tls.cert.file': worker.cert,
      'rest.tls.key.file': worker.key,
      ...extra,
    });

    it('asks over HTTPS, checking the certificate against the advertised name', async () => {
      const port = await listen(tlsServer(), 200);
      const probe = await runHealthcheck(tlsConfig(port, { 'rest.advertised.url': `https://worker-0.coldstore.example:${port}` }));
      expect(probe).toEqual({ code: 0, stderr: '' });
      expect(requested).toEqual(['GET /health']);
    });

    it('trusts the certificate chain without an advertised name', async () => {
      const port = await listen(tlsServer(), 200);
      expect(await runHealthcheck(tlsConfig(port))).toEqual({ code: 0, stderr: '' });
    });

    it('refuses a certificate for another name than the advertised one', async () => {
      const port = await listen(tlsServer(), 200);
      const probe = await runHealthcheck(tlsConfig(port, { 'rest.advertised.url': `https://worker-1.coldstore.example:${port}` }));
      expect(probe.code).toBe(1);
      expect(probe.stderr).toMatch(/altnames|does not match/i);
      expect(requested).toEqual([]);
    });

    it('refuses a certificate the configured CA did not sign', async () => {
      const port = await listen(tlsServer(), 200);
      const probe = await runHealthcheck(tlsConfig(port, { 'rest.tls.ca.file': other.cert }));
      expect(probe.code).toBe(1);
      expect(probe.stderr).toMatch(/self[- ]signed|unable to verify|certificate/i);
      expect(requested).toEqual([]);
    });
  });
});
