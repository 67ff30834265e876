/**
 * REST security (docs/rest-api.md, "Security"): bearer and basic authentication through inject(), and TLS
 * through a real HTTPS listener with a self-signed certificate.
 */
import { selfSignedCertificate } from '../helpers/certs.js';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWorkerConfig } from '../../runtime/config/worker-config.js';
import { createTestApp, expectError, type Reply, type TestApp } from '../helpers/test-app.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

function basic(user: string, password: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

function expectUnauthorized(reply: Reply, scheme: 'Bearer' | 'Basic'): void {
  expectError(reply, 401);
  expect(reply.headers['www-authenticate']).toMatch(new RegExp(`^${scheme} realm=`));
}

describe('bearer token authentication', () => {
  const TOKEN = 'tok-3f9a1c';
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ 'rest.auth.type': 'bearer', 'rest.auth.token': TOKEN });
  });
  afterAll(async () => {
    await t?.app.stop();
  });

  it('refuses requests without the token (401 with WWW-Authenticate)', async () => {
    for (const path of ['/', '/connectors', '/connector-plugins', '/metrics', '/no/such/route']) {
      expectUnauthorized(await t.call('GET', path), 'Bearer');
    }
    expectUnauthorized(await t.call('POST', '/connectors', { name: 'x', config: {} }), 'Bearer');
  });

  it('refuses a wrong token, another scheme, and the token as a prefix', async () => {
    expectUnauthorized(await t.call('GET', '/', undefined, { authorization: 'Bearer wrong' }), 'Bearer');
    expectUnauthorized(await t.call('GET', '/', undefined, { authorization: `Bearer ${TOKEN}x` }), 'Bearer');
    expectUnauthorized(await t.call('GET', '/', undefined, { authorization: TOKEN }), 'Bearer');
    expectUnauthorized(await t.call('GET', '/', undefined, basic('admin', TOKEN)), 'Bearer');
  });

  it('accepts the right token', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const root = await t.call('GET', '/', undefined, auth);
    expect(root.status).toBe(200);
    expect(root.body).toMatchObject({ version: expect.any(String) });
    const list = await t.call('GET', '/connectors', undefined, auth);
    expect(list.status).toBe(200);
    expect(list.body).toEqual([]);
    // Authenticated requests still get the normal error answers.
    expectError(await t.call('GET', '/connectors/nope', undefined, auth), 404);
  });

  it('leaves /health and /ready open for liveness and readiness probes', async () => {
    const health = await t.call('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'healthy' });
    expect((await t.call('GET', '/health?verbose=true')).status).toBe(200);
    const ready = await t.call('GET', '/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ready');
  });

  it('keeps /metrics closed by default (rest.metrics.open=false)', async () => {
    expectUnauthorized(await t.call('GET', '/metrics'), 'Bearer');
    expect((await t.call('GET', '/metrics', undefined, { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });
});

describe('rest.metrics.open=true with bearer authentication', () => {
  const TOKEN = 'tok-77e0b2';
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ 'rest.auth.type': 'bearer', 'rest.auth.token': TOKEN, 'rest.metrics.open': true });
  });
  afterAll(async () => {
    await t?.app.stop();
  });

  it('answers GET /metrics without credentials, with the process metrics (heap, RSS, event-loop delay, GC)', async () => {
    // A young-generation GC must have happened for the GC histogram to have a sample.
    const text = await waitFor('a GC sample and event-loop delays in /metrics', async () => {
      const garbage = Array.from({ length: 200_000 }, (_, i) => ({ i, s: `x${i}` }));
      void garbage.length;
      const reply = await t.call('GET', '/metrics');
      expect(reply.status).toBe(200);
      // The event-loop delay gauges cover the time since the previous scrape (at least 5 samples of 10 ms).
      // Wait for a young-generation sample itself: the first GC the exporter saw may have been another kind (a CI run found it so).
      return /^v8js_gc_duration_count\{[^}]*v8js_gc_type="minor"/m.test(reply.text) && /^nodejs_eventloop_delay_p99\{/m.test(reply.text)
        ? reply.text
        : undefined;
    });
    expect(text).toMatch(/^v8js_memory_heap_used\{[^}]*v8js_heap_space_name="old_space"[^}]*\} [1-9]/m);
    expect(text).toMatch(/^process_memory_usage\{[^}]*\} [1-9]/m);
    expect(text).toMatch(/^nodejs_eventloop_delay_p99\{[^}]*\} \S+/m);
    expect(text).toMatch(/^nodejs_eventloop_utilization\{/m);
    expect(text).toMatch(/^nodejs_eventloop_time_total\{[^}]*nodejs_eventloop_state="active"/m);
    expect(text).toMatch(/^v8js_memory_heap_space_size\{[^}]*v8js_heap_space_name="new_space"[^}]*\} [1-9]/m);
    expect(text).toMatch(/^v8js_gc_duration_bucket\{[^}]*v8js_gc_type="minor"/m);
  });

  it('opens only GET /metrics: every other route still needs the token', async () => {
    for (const path of ['/', '/connectors', '/connector-plugins', '/metrics/x']) expectUnauthorized(await t.call('GET', path), 'Bearer');
    expectUnauthorized(await t.call('POST', '/metrics'), 'Bearer');
    expect((await t.call('GET', '/metrics?name=x')).status).toBe(200);
  });
});

describe('basic authentication', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ 'rest.auth.type': 'basic', 'rest.auth.users': 'alice:pw1,bob:pw2' });
  });
  afterAll(async () => {
    await t?.app.stop();
  });

  it('refuses requests without credentials (401 with WWW-Authenticate)', async () => {
    expectUnauthorized(await t.call('GET', '/'), 'Basic');
    expectUnauthorized(await t.call('GET', '/connectors'), 'Basic');
  });

  it("refuses a wrong password, an unknown user, another user's password and garbage", async () => {
    expectUnauthorized(await t.call('GET', '/', undefined, basic('alice', 'nope')), 'Basic');
    expectUnauthorized(await t.call('GET', '/', undefined, basic('alice', 'pw2')), 'Basic');
    expectUnauthorized(await t.call('GET', '/', undefined, basic('carol', 'pw1')), 'Basic');
    expectUnauthorized(await t.call('GET', '/', undefined, basic('alice', '')), 'Basic');
    expectUnauthorized(await t.call('GET', '/', undefined, { authorization: 'Basic !!!not-base64' }), 'Basic');
    expectUnauthorized(await t.call('GET', '/', undefined, { authorization: 'Bearer pw1' }), 'Basic');
  });

  it('accepts every configured user', async () => {
    expect((await t.call('GET', '/', undefined, basic('alice', 'pw1'))).status).toBe(200);
    expect((await t.call('GET', '/connectors', undefined, basic('bob', 'pw2'))).status).toBe(200);
  });

  it('leaves /health open', async () => {
    expect((await t.call('GET', '/health')).status).toBe(200);
  });

  it("refuses a write a browser sends from another site with the operator's credentials, and keeps same-site writes", async () => {
    const body = { name: 'from-elsewhere', config: { 'connector.class': 'FileStreamSource', topic: 'x', file: '/dev/null' } };
    const alice = basic('alice', 'pw1');
    const foreign = await t.call('POST', '/connectors', body, { ...alice, host: '127.0.0.1:8083', origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(foreign.body).toMatchObject({ error_code: 403, code: 'CROSS_SITE_REFUSED' });
    const fetchMetadata = await t.call('DELETE', '/connectors/anything', undefined, { ...alice, 'sec-fetch-site': 'cross-site' });
    expect(fetchMetadata.body).toMatchObject({ code: 'CROSS_SITE_REFUSED' });
    expect((await t.call('PUT', '/admin/loggers/root', { level: 'DEBUG' }, { ...alice, origin: 'null' })).status).toBe(403);
    expect((await t.call('GET', '/connectors', undefined, alice)).body).toEqual([]);
    // Reads stay open to any origin (they change nothing), and a page of this worker may write.
    expect((await t.call('GET', '/connectors', undefined, { ...alice, origin: 'https://evil.example' })).status).toBe(200);
    const own = await t.call('POST', '/connectors', body, {
      ...alice,
      host: '127.0.0.1:8083',
      origin: 'http://127.0.0.1:8083',
      'sec-fetch-site': 'same-origin',
    });
    expect(own.status).toBe(201);
    expect((await t.call('GET', '/connectors', undefined, alice)).body).toEqual(['from-elsewhere']);
    await t.call('DELETE', '/connectors/from-elsewhere', undefined, alice);
  });
});

describe('writes from a browser behind a reverse proxy that rewrites Host', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      'rest.advertised.url': 'https://coldstore.internal:8443',
      'rest.allowed.origins': 'https://ops.example.com, http://10.0.0.5:8080',
    });
  });
  afterAll(async () => {
    await t?.app.stop();
  });
  // nginx's `proxy_pass http://coldstore:8083;` sends Host coldstore:8083; the browser's Origin names the proxy.
  const proxied = (origin: string) => ({ host: 'coldstore:8083', origin, 'sec-fetch-site': 'same-origin' });

  it('accepts the origins of rest.allowed.origins and the host of rest.advertised.url, and nothing that merely resembles them', async () => {
    // 404: the write passed the guard and reached the route.
    for (const origin of ['https://ops.example.com', 'http://10.0.0.5:8080', 'https://coldstore.internal:8443']) {
      expect((await t.call('DELETE', '/connectors/absent', undefined, proxied(origin))).status, origin).toBe(404);
    }
    for (const origin of ['http://ops.example.com', 'https://ops.example.com:8443', 'https://ops.example.com.evil.example', 'http://10.0.0.5', 'null']) {
      const refused = await t.call('DELETE', '/connectors/absent', undefined, proxied(origin));
      expectError(refused, 403, /rest\.allowed\.origins/);
      expect(refused.body.code, origin).toBe('CROSS_SITE_REFUSED');
    }
  });

  it('rest.allowed.origins takes origins only: a bare host or a path is refused at startup', () => {
    for (const bad of ['ops.example.com', 'https://ops.example.com/ui', 'ftp://ops.example.com']) {
      expect(() => parseWorkerConfig({ 'bootstrap.servers': 'x:1', 'rest.allowed.origins': bad }), bad).toThrow(/rest\.allowed\.origins.*must list origins/);
    }
  });
});

describe('TLS', () => {
  const dir = tmpDir('rest-tls');
  const { cert, key } = selfSignedCertificate(dir, 'worker', 'IP:127.0.0.1');
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    t = await createTestApp({ 'rest.tls.cert.file': cert, 'rest.tls.key.file': key });
    await t.app.server.listen({ host: '127.0.0.1', port: 0 });
    port = (t.app.server.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await t?.app.stop();
  });

  it('serves HTTPS with the configured certificate', async () => {
    const res = await new Promise<{ status: number; body: string; peer: string }>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port, path: '/', method: 'GET', ca: readFileSync(cert) }, (response) => {
        const peer = String((response.socket as TLSSocket).getPeerCertificate().subject?.CN ?? '');
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body, peer }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ version: expect.any(String), commit: expect.any(String) });
    expect(res.peer).toBe('127.0.0.1');
  });

  it('refuses a client that does not trust the certificate', async () => {
    const outcome = await new Promise<string>((resolve) => {
      const req = httpsRequest({ host: '127.0.0.1', port, path: '/', method: 'GET' }, () => resolve('answered'));
      req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      req.end();
    });
    expect(outcome).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
  });

  it('does not answer plain HTTP on the same port', async () => {
    const outcome = await new Promise<string>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/', method: 'GET', timeout: 5_000 }, (response) => resolve(`HTTP ${response.statusCode}`));
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code ?? err.message}`));
      req.end();
    });
    // Node's TLS server resets a connection that does not start with a TLS handshake.
    expect(outcome).toBe('error ECONNRESET');
  });
});
