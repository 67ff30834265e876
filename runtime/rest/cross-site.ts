import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCodes } from '../api/errors.js';
import { errorBody } from './errors.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Methods that change nothing: never refused as cross-site, never forwarded to the leader. */
export function isSafeMethod(method: string): boolean {
  return SAFE_METHODS.has(method);
}

/**
 * Refuses state-changing requests that a browser sends on behalf of another site. A
 * browser that holds an operator's basic credentials (the /ui page) would attach them
 * to a form or fetch from any page; such requests carry an `Origin` of that page, or
 * `Sec-Fetch-Site: cross-site`. Clients that are not browsers (curl, the CLI, workers
 * forwarding to the leader) send neither and are unaffected.
 *
 * The worker's own site is the `Host` the request names, the host of its advertised URL,
 * and the origins allowed by configuration: a reverse proxy that rewrites `Host` (nginx's
 * default `proxy_pass`) leaves the browser's `Origin` naming the proxy.
 */
export function crossSiteHook(own: { advertisedUrl?: string | undefined; allowedOrigins?: readonly string[] } = {}) {
  const advertisedHost = own.advertisedUrl ? URL.parse(own.advertisedUrl)?.host : undefined;
  const allowed = new Set((own.allowedOrigins ?? []).map((o) => new URL(o).origin));
  const ownSite = (origin: string, host: string | undefined): boolean => {
    if (origin === 'null') return false;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false;
    }
    return url.host === host || url.host === advertisedHost || allowed.has(url.origin);
  };
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (isSafeMethod(request.method)) return;
    const site = request.headers['sec-fetch-site'];
    const origin = request.headers.origin;
    if (site !== 'cross-site' && (origin === undefined || ownSite(origin, request.headers.host))) return;
    return reply
      .code(403)
      .send(
        errorBody(
          403,
          ErrorCodes.CROSS_SITE_REFUSED,
          `Refused a ${request.method} sent by a browser from another site (Origin ${origin ?? 'unknown'}). Call the API from the /ui page of this worker, or from a client that is not a browser; behind a reverse proxy that rewrites Host, add the proxy's origin to rest.allowed.origins.`,
        ),
      );
  };
}
