/**
 * A write a worker took as the leader and could not apply because leadership moved during
 * it (NOT_LEADER: nothing written) goes on to the new leader instead of answering 503: a
 * cluster that is still settling (workers just started) takes writes through any worker.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ColdstoreError, ErrorCodes } from '../../runtime/api/errors.js';
import { errorHandler } from '../../runtime/rest/errors.js';
import { FORWARDED_HEADER, forwardingErrorHandler, forwardingHook, type Forwarding } from '../../runtime/rest/forwarding.js';
import type { Logger } from '../../runtime/telemetry/logger.js';

let newLeader: FastifyInstance;
let newLeaderUrl: string;
const received: string[] = [];

beforeAll(async () => {
  newLeader = Fastify();
  newLeader.all('/*', async (request, reply) => {
    received.push(`${request.method} ${request.url}`);
    return reply.code(201).send({ handledBy: 'new leader' });
  });
  newLeaderUrl = await newLeader.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(() => newLeader.close());

const apps: FastifyInstance[] = [];
afterEach(async () => {
  received.length = 0;
  for (const app of apps.splice(0)) await app.close();
});

const quietLog = { error: () => undefined } as unknown as Logger;

/** A worker that leads until its route runs: the write then finds leadership gone (or fails otherwise). */
function leaderLosingLeadership(failure: ColdstoreError): FastifyInstance {
  let leading = true;
  const forwarding: Forwarding = { isLeader: () => leading, leaderUrl: () => (leading ? undefined : newLeaderUrl), workerId: 'w2' };
  const app = Fastify();
  app.addHook('preHandler', forwardingHook(forwarding));
  app.setErrorHandler(forwardingErrorHandler(forwarding, errorHandler(quietLog)));
  app.post('/connectors', async () => {
    leading = false;
    throw failure;
  });
  apps.push(app);
  return app;
}

describe('a write whose leader stopped leading while applying it', () => {
  it('is sent on to the new leader, whose answer the caller gets', async () => {
    const app = leaderLosingLeadership(new ColdstoreError(ErrorCodes.NOT_LEADER, 'This worker stopped leading the cluster during the write'));
    const response = await app.inject({ method: 'POST', url: '/connectors', payload: { name: 'c1', config: {} } });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toEqual({ handledBy: 'new leader' });
    expect(received).toEqual(['POST /connectors']);
  });

  it('any other error is answered as it is, never resent', async () => {
    const app = leaderLosingLeadership(new ColdstoreError(ErrorCodes.CONNECTOR_EXISTS, 'Connector c1 already exists.'));
    const response = await app.inject({ method: 'POST', url: '/connectors', payload: { name: 'c1', config: {} } });
    expect(response.statusCode).toBe(409);
    expect(received).toEqual([]);
  });

  it('a write forwarded here by another worker is answered 503 NOT_LEADER, so that worker retries: never forwarded twice', async () => {
    const app = leaderLosingLeadership(new ColdstoreError(ErrorCodes.NOT_LEADER, 'moved'));
    const response = await app.inject({ method: 'POST', url: '/connectors', headers: { [FORWARDED_HEADER]: 'w1' }, payload: { name: 'c1', config: {} } });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ code: ErrorCodes.NOT_LEADER });
    expect(received).toEqual([]);
  });
});
