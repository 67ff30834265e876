import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ErrorCodes } from '../../runtime/api/errors.js';
import { errorBody } from '../../runtime/rest/errors.js';
import { FORWARDED_HEADER, forwardingHook, type Forwarding } from '../../runtime/rest/forwarding.js';

interface Received {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** The "leader": a real server on loopback that records each request and answers as told. */
let leader: FastifyInstance;
let leaderUrl: string;
const received: Received[] = [];
let leaderAnswers: { status: number; body: unknown; headers?: Record<string, string> }[] = [];

beforeAll(async () => {
  leader = Fastify();
  leader.all('/*', async (request, reply) => {
    received.push({ method: request.method, url: request.url, headers: request.headers, body: request.body });
    const answer = leaderAnswers.shift() ?? { status: 200, body: { handledBy: 'leader' } };
    for (const [k, v] of Object.entries(answer.headers ?? {})) reply.header(k, v);
    return reply.code(answer.status).send(answer.body);
  });
  leaderUrl = await leader.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await leader.close();
});

const apps: FastifyInstance[] = [];
afterEach(async () => {
  vi.useRealTimers();
  received.length = 0;
  leaderAnswers = [];
  for (const app of apps.splice(0)) await app.close();
});

/** A non-leading worker: the hook as preHandler, and routes that say they ran locally. */
function worker(forwarding: Forwarding): FastifyInstance {
  const app = Fastify();
  app.addHook('preHandler', forwardingHook(forwarding));
  const local = async (request: { method: string; url: string }) => ({ handledBy: 'local', method: request.method, url: request.url });
  app.get('/connectors', local);
  app.get('/connectors/:name', local);
  app.post('/connectors', local);
  app.put('/connectors/:name/config', local);
  app.put('/connectors/:name/pause', local);
  app.delete('/connectors/:name', local);
  app.post('/connectors/:name/restart', local);
  app.put('/connector-plugins/:type/config/validate', local);
  app.put('/admin/loggers/:name', local);
  apps.push(app);
  return app;
}

const follower = (overrides: Partial<Forwarding> = {}): Forwarding => ({ isLeader: () => false, leaderUrl: () => leaderUrl, workerId: 'w2', ...overrides });

describe('forwardingHook', () => {
  it('forwards a POST with method, path, query, JSON body and Authorization, adding x-coldstore-forwarded-by', async () => {
    const app = worker(follower());
    leaderAnswers.push({ status: 201, body: { name: 'c1', created: true } });
    const body = { name: 'c1', config: { 'connector.class': 'X', 'tasks.max': '2' } };
    const response = await app.inject({
      method: 'POST',
      url: '/connectors/c1/restart?includeTasks=true&onlyFailed=false',
      headers: { authorization: 'Bearer s3cret', 'x-other': 'not-forwarded' },
      payload: body,
    });
    expect(received).toHaveLength(1);
    const got = received[0]!;
    expect(got.method).toBe('POST');
    expect(got.url).toBe('/connectors/c1/restart?includeTasks=true&onlyFailed=false');
    expect(got.body).toEqual(body);
    expect(got.headers['authorization']).toBe('Bearer s3cret');
    expect(got.headers[FORWARDED_HEADER]).toBe('w2');
    expect(got.headers['content-type']).toBe('application/json');
    // The leader's status and body come back to the caller.
    expect(response.statusCode).toBe(201);
    expect(response.headers['content-type']).toContain('application/json');
    expect(response.json()).toEqual({ name: 'c1', created: true });
  });

  it("returns the leader's error status and body as they are", async () => {
    const app = worker(follower());
    leaderAnswers.push({ status: 409, body: errorBody(409, ErrorCodes.CONNECTOR_EXISTS, 'Connector c1 already exists') });
    const response = await app.inject({ method: 'POST', url: '/connectors', payload: { name: 'c1', config: {} } });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toMatchObject({ error_code: 409, code: ErrorCodes.CONNECTOR_EXISTS, message: 'Connector c1 already exists' });
  });

  it('forwards PUT and DELETE too, without Authorization when the caller sent none', async () => {
    const app = worker(follower());
    const put = await app.inject({ method: 'PUT', url: '/connectors/c1/config', payload: { 'tasks.max': '1' } });
    const del = await app.inject({ method: 'DELETE', url: '/connectors/c1' });
    expect(put.json()).toEqual({ handledBy: 'leader' });
    expect(del.json()).toEqual({ handledBy: 'leader' });
    expect(received.map((r) => `${r.method} ${r.url}`)).toEqual(['PUT /connectors/c1/config', 'DELETE /connectors/c1']);
    expect(received[0]!.body).toEqual({ 'tasks.max': '1' });
    expect(received[1]!.headers['authorization']).toBeUndefined();
    expect(received[1]!.headers[FORWARDED_HEADER]).toBe('w2');
  });

  it('keeps the Location header of a connector created at the leader', async () => {
    const app = worker(follower());
    leaderAnswers.push({ status: 201, body: { name: 'c1' }, headers: { location: '/connectors/c1' } });
    const response = await app.inject({ method: 'POST', url: '/connectors', payload: { name: 'c1', config: {} } });
    expect(response.statusCode).toBe(201);
    // Standalone and at the leader, POST /connectors answers with Location (runtime/rest/routes/connectors.ts).
    expect(response.headers['location']).toBe('/connectors/c1');
  });

  it("does not forward GET requests, PUT /connector-plugins/... validation or a worker's own log levels", async () => {
    const app = worker(follower());
    const get = await app.inject({ method: 'GET', url: '/connectors/c1' });
    const validate = await app.inject({ method: 'PUT', url: '/connector-plugins/FileSource/config/validate', payload: { 'connector.class': 'FileSource' } });
    const level = await app.inject({ method: 'PUT', url: '/admin/loggers/root', payload: { level: 'DEBUG' } });
    expect(get.json()).toMatchObject({ handledBy: 'local', method: 'GET' });
    expect(validate.json()).toMatchObject({ handledBy: 'local', method: 'PUT' });
    expect(level.json()).toMatchObject({ handledBy: 'local', method: 'PUT', url: '/admin/loggers/root' });
    expect(received).toEqual([]);
  });

  it('handles the write locally when this worker leads', async () => {
    const app = worker(follower({ isLeader: () => true }));
    const response = await app.inject({ method: 'POST', url: '/connectors', payload: { name: 'c1', config: {} } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ handledBy: 'local', method: 'POST' });
    expect(received).toEqual([]);
  });

  it('answers 503 NOT_LEADER to a request already forwarded once, without forwarding it again', async () => {
    const app = worker(follower());
    const response = await app.inject({ method: 'POST', url: '/connectors', headers: { [FORWARDED_HEADER]: 'w1' }, payload: { name: 'c1', config: {} } });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ error_code: 503, code: ErrorCodes.NOT_LEADER });
    expect(received).toEqual([]);
  });

  it('a forwarded request reaching the leader is handled there', async () => {
    const app = worker(follower({ isLeader: () => true }));
    const response = await app.inject({ method: 'POST', url: '/connectors', headers: { [FORWARDED_HEADER]: 'w1' }, payload: { name: 'c1', config: {} } });
    expect(response.json()).toMatchObject({ handledBy: 'local' });
  });

  it('with no leader known, retries 20 times and then answers 503 NOT_LEADER', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    let asked = 0;
    const app = worker(
      follower({
        leaderUrl: () => {
          asked++;
          return undefined;
        },
      }),
    );
    await app.ready();
    let settled = false;
    const pending = app.inject({ method: 'POST', url: '/connectors', payload: { name: 'c1', config: {} } }).finally(() => (settled = true));
    // The first attempt runs as soon as the request reaches the hook; each later one after a 500 ms sleep.
    await vi.waitFor(() => expect(asked).toBe(1));
    for (let i = 0; i < 19; i++) await vi.advanceTimersByTimeAsync(500);
    expect(settled).toBe(false);
    expect(asked).toBe(20);
    await vi.advanceTimersByTimeAsync(500);
    const response = await pending;
    expect(asked).toBe(20);
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ error_code: 503, code: ErrorCodes.NOT_LEADER });
    expect(response.json().message).toContain('no leader is elected yet');
    expect(received).toEqual([]);
  }, 20_000);

  it('keeps retrying while the leader hands leadership on (503 NOT_LEADER), then returns the new answer', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    const app = worker(follower());
    await app.ready();
    leaderAnswers.push({ status: 503, body: errorBody(503, ErrorCodes.NOT_LEADER, 'moved') }, { status: 201, body: { ok: true } });
    const pending = app.inject({ method: 'POST', url: '/connectors', payload: { name: 'c1', config: {} } });
    await vi.waitFor(() => expect(received).toHaveLength(1));
    await vi.advanceTimersByTimeAsync(500);
    const response = await pending;
    expect(received).toHaveLength(2);
    expect(response.statusCode).toBe(201);
    expect(response.json()).toEqual({ ok: true });
  });

  it('forwards once a leader becomes known during the retries, and stops forwarding if this worker becomes leader', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    let calls = 0;
    const app = worker(follower({ leaderUrl: () => (++calls < 3 ? undefined : leaderUrl) }));
    await app.ready();
    const pending = app.inject({ method: 'POST', url: '/connectors', payload: { name: 'c1', config: {} } });
    await vi.waitFor(() => expect(calls).toBe(1));
    await vi.advanceTimersByTimeAsync(500);
    expect(calls).toBe(2);
    await vi.advanceTimersByTimeAsync(500);
    const response = await pending;
    expect(calls).toBe(3);
    expect(response.json()).toEqual({ handledBy: 'leader' });

    let leading = false;
    let asked = 0;
    const app2 = worker(follower({ isLeader: () => leading, leaderUrl: () => (asked++, undefined) }));
    await app2.ready();
    const pending2 = app2.inject({ method: 'POST', url: '/connectors', payload: { name: 'c2', config: {} } });
    await vi.waitFor(() => expect(asked).toBe(1));
    await vi.advanceTimersByTimeAsync(500);
    expect(asked).toBe(2);
    leading = true;
    await vi.advanceTimersByTimeAsync(500);
    const local = await pending2;
    expect(local.json()).toMatchObject({ handledBy: 'local', method: 'POST' });
    expect(asked).toBe(2);
    expect(received).toHaveLength(1);
  }, 20_000);

  it('answers 503 NOT_LEADER naming the leader when it does not answer at all', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    const dead = Fastify();
    const deadUrl = await dead.listen({ host: '127.0.0.1', port: 0 });
    await dead.close();
    const app = worker(follower({ leaderUrl: () => deadUrl }));
    await app.ready();
    let settled = false;
    const pending = app.inject({ method: 'POST', url: '/connectors', payload: { name: 'c1', config: {} } }).finally(() => (settled = true));
    for (let i = 0; i < 40 && !settled; i++) {
      await vi.advanceTimersByTimeAsync(500);
      await new Promise((r) => setImmediate(r));
    }
    const response = await pending;
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ code: ErrorCodes.NOT_LEADER });
    expect(response.json().message).toContain(`the leader at ${deadUrl} did not answer`);
  }, 20_000);

  it('does not send again a request the leader took but whose answer was lost: 504, applied at most once', async () => {
    const cutting = Fastify();
    let taken = 0;
    cutting.post('/connectors/:name/restart', async (request) => {
      taken++;
      request.raw.socket.destroy();
    });
    const cuttingUrl = await cutting.listen({ host: '127.0.0.1', port: 0 });
    try {
      const app = worker(follower({ leaderUrl: () => cuttingUrl }));
      const response = await app.inject({ method: 'POST', url: '/connectors/c1/restart' });
      expect(response.statusCode).toBe(504);
      expect(response.json().message).toContain('whether it was applied is unknown');
      expect(taken).toBe(1);
    } finally {
      await cutting.close();
    }
  });
});
