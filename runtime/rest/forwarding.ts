import type { FastifyReply, FastifyRequest } from 'fastify';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ColdstoreError, ErrorCodes } from '../api/errors.js';
import { isSafeMethod } from './cross-site.js';
import { errorBody } from './errors.js';

export const FORWARDED_HEADER = 'x-coldstore-forwarded-by';

/** Long enough for the slowest write the leader answers (verifying a large backup). */
const FORWARD_TIMEOUT_MS = 10 * 60_000;

/** Errors that prove the request never reached the leader: sending it again cannot apply it twice. */
const NOT_DELIVERED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

export interface Forwarding {
  /** This worker applies writes itself. */
  isLeader(): boolean;
  /** Where the leader answers, when one is known. */
  leaderUrl(): string | undefined;
  workerId: string;
  /** CA certificates trusted for an https leader URL. */
  ca?: Buffer;
}

/** Requests that change the cluster's state: applied once, by the leader. Validation, reads and a worker's own log levels stay local. */
function isWrite(request: FastifyRequest): boolean {
  return !isSafeMethod(request.method) && !request.url.startsWith('/connector-plugins') && !request.url.startsWith('/admin/');
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Headers of the leader's answer that describe its connection, not the answer: the caller's connection has its own. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date']);

function send(url: URL, request: FastifyRequest, forwarding: Forwarding): Promise<Answer> {
  const body = request.body === undefined ? undefined : Buffer.from(JSON.stringify(request.body));
  const headers: Record<string, string> = { [FORWARDED_HEADER]: forwarding.workerId };
  if (request.headers.authorization) headers['authorization'] = request.headers.authorization;
  if (body) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(body.length);
  }
  const make = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = make(
      url,
      { method: request.method, headers, timeout: FORWARD_TIMEOUT_MS, ...(forwarding.ca ? { ca: forwarding.ca } : {}) },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () => resolve({ status: response.statusCode ?? 502, headers: response.headers, body: Buffer.concat(chunks) }));
        response.on('error', reject);
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${FORWARD_TIMEOUT_MS / 60_000} minutes`)));
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/**
 * Any worker accepts a write; one that does not lead forwards it to the leader (same
 * method, path, body and credentials, over TLS when the leader serves TLS) and returns
 * the leader's answer. While leadership moves it retries for a few seconds.
 */
export function forwardingHook(forwarding: Forwarding) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (!isWrite(request) || forwarding.isLeader()) return;
    if (request.headers[FORWARDED_HEADER]) {
      return reply
        .code(503)
        .send(errorBody(503, ErrorCodes.NOT_LEADER, 'This worker no longer leads the cluster (a rebalance is under way); retry in a few seconds.'));
    }
    return forwardToLeader(request, reply, forwarding);
  };
}

/**
 * A write this worker took as the leader, refused with NOT_LEADER because leadership moved
 * while it was being applied (nothing was written): sent on to the new leader like one that
 * arrived after the move, instead of answering 503. Other errors go to `handle`.
 */
export function forwardingErrorHandler(forwarding: Forwarding, handle: (err: Error, request: FastifyRequest, reply: FastifyReply) => unknown) {
  return async (err: Error, request: FastifyRequest, reply: FastifyReply) => {
    const moved = err instanceof ColdstoreError && err.code === ErrorCodes.NOT_LEADER;
    if (!moved || !isWrite(request) || request.headers[FORWARDED_HEADER]) return handle(err, request, reply);
    const answered = await forwardToLeader(request, reply, forwarding, { untilLeader: false });
    return answered ?? handle(err, request, reply);
  };
}

/**
 * Sends the request to the leader, retrying for about 10 s while none is known or the one
 * known hands leadership on. Returns undefined (the request is this worker's to apply) when
 * this worker leads, unless `untilLeader` is false: then it keeps waiting for another leader.
 */
async function forwardToLeader(request: FastifyRequest, reply: FastifyReply, forwarding: Forwarding, options = { untilLeader: true }) {
  let last = 'no leader is elected yet';
  for (let attempt = 0; attempt < 20; attempt++) {
    const leader = forwarding.isLeader() ? undefined : forwarding.leaderUrl();
    if (forwarding.isLeader() && options.untilLeader) return undefined;
    if (leader) {
      try {
        const answer = await send(new URL(request.url, leader), request, forwarding);
        const notLeader = answer.status === 503 && answer.body.toString('utf8').includes(ErrorCodes.NOT_LEADER);
        if (!notLeader) {
          for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) reply.header(name, value);
          return reply.code(answer.status).send(answer.body);
        }
        last = `the leader at ${leader} handed leadership on`;
      } catch (err) {
        if (!NOT_DELIVERED.has((err as NodeJS.ErrnoException).code ?? '')) {
          // It may have been applied: sending it again could apply it twice.
          return reply
            .code(504)
            .send(
              errorBody(
                504,
                ErrorCodes.NOT_LEADER,
                `The leader at ${leader} took the request but its answer was lost (${(err as Error).message}); whether it was applied is unknown. Check with a GET before sending it again.`,
              ),
            );
        }
        last = `the leader at ${leader} did not answer (${(err as Error).message})`;
      }
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  if (!options.untilLeader) return undefined;
  return reply.code(503).send(errorBody(503, ErrorCodes.NOT_LEADER, `Could not forward the request to the cluster's leader: ${last}. Retry in a few seconds.`));
}
