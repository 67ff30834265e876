import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCodes } from '../api/errors.js';
import { errorBody } from './errors.js';

export type RestAuth = ({ type: 'none' } | { type: 'bearer'; token: string } | { type: 'basic'; users: Map<string, string> }) & {
  /** rest.metrics.open: GET /metrics answers without credentials (a Prometheus scrape). */
  metricsOpen?: boolean;
};

/** Routes anyone may call: liveness and readiness probes must not need credentials. */
const OPEN_ROUTES = new Set(['/health', '/ready']);

function open(auth: RestAuth, request: FastifyRequest): boolean {
  const path = request.url.split('?')[0] ?? '';
  return OPEN_ROUTES.has(path) || (auth.metricsOpen === true && path === '/metrics' && request.method === 'GET');
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function parseBasicUsers(spec: string): Map<string, string> {
  const users = new Map<string, string>();
  for (const pair of spec.split(',')) {
    const cut = pair.indexOf(':');
    if (cut > 0) users.set(pair.slice(0, cut).trim(), pair.slice(cut + 1).trim());
  }
  return users;
}

function authorized(auth: RestAuth, header: string | undefined): boolean {
  if (auth.type === 'none') return true;
  if (!header) return false;
  if (auth.type === 'bearer') return header.startsWith('Bearer ') && same(header.slice(7), auth.token);
  if (!header.startsWith('Basic ')) return false;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const cut = decoded.indexOf(':');
  const expected = cut > 0 ? auth.users.get(decoded.slice(0, cut)) : undefined;
  return expected !== undefined && same(decoded.slice(cut + 1), expected);
}

export function authHook(auth: RestAuth) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (auth.type === 'none' || open(auth, request)) return;
    if (authorized(auth, request.headers.authorization)) return;
    reply.header('WWW-Authenticate', auth.type === 'bearer' ? 'Bearer realm="coldstore"' : 'Basic realm="coldstore"');
    return reply.code(401).send(errorBody(401, ErrorCodes.UNAUTHORIZED, 'Authentication required: send the configured bearer token or basic credentials.'));
  };
}
