import type { FastifyInstance } from 'fastify';
import { ColdstoreError, ErrorCodes } from '../../api/errors.js';
import { LEVEL_NAMES, logLevelsOf, pinoLevel } from '../../telemetry/log-levels.js';
import type { Logger } from '../../telemetry/logger.js';

type NameParams = { Params: { name: string } };

/**
 * Kafka Connect's /admin/loggers (KIP-495, with KIP-976's last_modified): this worker's log
 * levels, changed at run time and not kept across restarts. `scope=cluster` is refused: each
 * worker's levels are its own, set on each worker.
 */
export function loggerRoutes(app: FastifyInstance, log: Logger): void {
  const levels = logLevelsOf(log);

  // A debug line per request: what PUT /admin/loggers/root {"level":"DEBUG"} shows first.
  app.addHook('onResponse', async (request, reply) => {
    log.debug({ method: request.method, url: request.url, status: reply.statusCode }, 'REST request');
  });

  app.get('/admin/loggers', async () => levels.all());

  app.get<NameParams>('/admin/loggers/:name', async (request) => {
    const found = levels.get(request.params.name);
    if (!found) throw notFound(request.params.name);
    return found;
  });

  app.put<NameParams & { Querystring: { scope?: string } }>('/admin/loggers/:name', async (request) => {
    if (request.query.scope?.toLowerCase() === 'cluster') {
      throw new ColdstoreError(
        ErrorCodes.REQUEST_INVALID,
        'scope=cluster is not supported: log levels are per worker in coldstore. Send the same PUT (without scope) to each worker; GET /connectors/{name}/status names the workers of a connector.',
      );
    }
    const body = request.body as { level?: unknown } | undefined;
    if (typeof body?.level !== 'string' || body.level === '') {
      throw new ColdstoreError(ErrorCodes.REQUEST_INVALID, `Body must be {"level": "<level>"}, the level one of ${LEVEL_NAMES.join(', ')}.`);
    }
    const level = pinoLevel(body.level);
    if (!level) throw new ColdstoreError(ErrorCodes.REQUEST_INVALID, `Unknown log level "${body.level}": use one of ${LEVEL_NAMES.join(', ')}.`);
    const name = request.params.name;
    if (!levels.acceptsName(name)) throw notFound(name);
    const changed = levels.set(name, level);
    // Not `level`: that key is the line's own level.
    log.info({ logger: name, setTo: body.level.toUpperCase(), changed }, 'log level changed');
    return changed;
  });
}

function notFound(name: string): ColdstoreError {
  return new ColdstoreError(
    ErrorCodes.LOGGER_NOT_FOUND,
    `Logger ${name} not found. GET /admin/loggers lists this worker's loggers; root, connector.<name> and connector.<name>.task.<id> can always be set.`,
  );
}
