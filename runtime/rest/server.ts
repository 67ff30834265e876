import Fastify, { type FastifyInstance } from 'fastify';
import { readFileSync } from 'node:fs';
import { ErrorCodes } from '../api/errors.js';
import type { HerderApi as Herder } from '../herder/herder-api.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { authHook, type RestAuth } from './auth.js';
import { crossSiteHook } from './cross-site.js';
import { forwardingErrorHandler, forwardingHook, type Forwarding } from './forwarding.js';
import { errorBody, errorHandler } from './errors.js';
import { connectorRoutes } from './routes/connectors.js';
import { loggerRoutes } from './routes/loggers.js';
import { pluginRoutes } from './routes/plugins.js';
import { systemRoutes, type SystemInfo } from './routes/system.js';

export interface ServerOptions {
  herder: Herder;
  metrics: Metrics;
  log: Logger;
  info: SystemInfo;
  auth: RestAuth;
  tls?: { certFile: string; keyFile: string };
  /** Routes of the product the runtime hosts (e.g. the backup catalogue, a status page), registered after the runtime's own. */
  routes?: ((app: FastifyInstance) => void)[];
  /** Origins a browser may send writes from besides the worker's own host: rest.advertised.url, rest.allowed.origins. */
  site?: { advertisedUrl?: string | undefined; allowedOrigins?: readonly string[] };
  /** Cluster mode: writes reaching a worker that does not lead go to the leader. */
  forwarding?: Forwarding;
}

/** The REST app, not listening: the worker calls listen(), tests use inject(). */
export function buildServer(options: ServerOptions): FastifyInstance {
  const https = options.tls ? { cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile) } : null;
  const app = (https ? Fastify({ https }) : Fastify()) as unknown as FastifyInstance;
  app.addHook('onRequest', crossSiteHook(options.site));
  app.addHook('onRequest', authHook(options.auth));
  if (options.forwarding) app.addHook('preHandler', forwardingHook(options.forwarding));
  app.setErrorHandler(options.forwarding ? forwardingErrorHandler(options.forwarding, errorHandler(options.log)) : errorHandler(options.log));
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(errorBody(404, ErrorCodes.ROUTE_NOT_FOUND, `No endpoint ${request.method} ${request.url.split('?')[0]}. See docs/rest-api.md.`)),
  );
  systemRoutes(app, options.info, options.metrics);
  connectorRoutes(app, options.herder);
  pluginRoutes(app, options.herder);
  loggerRoutes(app, options.log);
  for (const register of options.routes ?? []) register(app);
  return app;
}
