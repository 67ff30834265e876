import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ColdstoreError, ConfigError, ErrorCodes, type ErrorCode } from '../api/errors.js';
import type { Logger } from '../telemetry/logger.js';

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  CONFIG_INVALID: 400,
  REQUEST_INVALID: 400,
  OFFSETS_INVALID: 400,
  CONNECTOR_NOT_STOPPED: 400,
  UNAUTHORIZED: 401,
  CONNECTOR_NOT_FOUND: 404,
  TASK_NOT_FOUND: 404,
  PLUGIN_NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  LOGGER_NOT_FOUND: 404,
  CONNECTOR_EXISTS: 409,
  TOPICS_RESET_NOT_STOPPED: 409,
  BACKUP_ID_CONFLICT: 409,
  BACKUP_NOT_POSSIBLE: 409,
  BACKUP_NOT_FOUND: 404,
  RETRIABLE: 503,
  KAFKA_ERROR: 503,
  NOT_LEADER: 503,
  TASK_FENCED: 409,
};

/** Kafka Connect's error body `{error_code, message}`, plus our catalog code and, for configs, every bad field. */
export function errorBody(status: number, code: ErrorCode, message: string, fields?: { field: string; message: string }[]) {
  return { error_code: status, message, code, ...(fields ? { fields } : {}) };
}

export function errorHandler(log: Logger) {
  return (err: FastifyError | Error, _request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof ColdstoreError) {
      const status = HTTP_STATUS[err.code] ?? 500;
      if (status >= 500) log.error({ err }, 'request failed');
      return reply.code(status).send(errorBody(status, err.code, err.message, err instanceof ConfigError ? err.fields : undefined));
    }
    const status = (err as FastifyError).statusCode;
    if (status && status >= 400 && status < 500) {
      return reply.code(status).send(errorBody(status, ErrorCodes.REQUEST_INVALID, `Bad request: ${err.message}`));
    }
    log.error({ err }, 'request failed');
    return reply.code(500).send(errorBody(500, ErrorCodes.INTERNAL, `Internal error: ${err.message}. See the worker log.`));
  };
}
