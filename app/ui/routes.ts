import type { FastifyInstance } from 'fastify';
import { STATUS_PAGE_HTML } from './page.js';
import type { UiSampler } from './sampler.js';
import { STATUS_PAGE_SCRIPT } from './script.js';
import { STATUS_PAGE_STYLE } from './style.js';

/**
 * Only same-origin script, style and fetches: the page shows names and traces that users
 * chose, so even a rendering mistake must not be able to run or load anything else.
 */
export const STATUS_PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE_HEADERS = {
  // The page shows live state: a cached copy would be a wrong one, and it changes with each worker version.
  'cache-control': 'no-store',
  'content-security-policy': STATUS_PAGE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/**
 * The status page at /ui (docs/operations.md, "Status page"), and the sampler's history it
 * draws its charts from. It goes through the same auth hook as every route: a browser
 * handles basic auth itself and sends the credentials with the page's own requests.
 */
export function uiRoutes(app: FastifyInstance, sampler: UiSampler): void {
  const serve = (path: string, contentType: string, body: string) =>
    app.get(path, async (_request, reply) => reply.headers(PAGE_HEADERS).type(contentType).send(body));

  serve('/ui', 'text/html; charset=utf-8', STATUS_PAGE_HTML);
  serve('/ui/app.js', 'text/javascript; charset=utf-8', STATUS_PAGE_SCRIPT);
  serve('/ui/style.css', 'text/css; charset=utf-8', STATUS_PAGE_STYLE);
  app.get('/ui/history', async (_request, reply) => reply.headers(PAGE_HEADERS).send(sampler.history()));
  // The page's URLs are relative to /ui, so /ui/ would load /ui/ui/app.js: send it to /ui.
  app.get('/ui/', async (_request, reply) => reply.redirect('../ui'));
}
