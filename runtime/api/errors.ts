/**
 * Every error coldstore raises carries a stable code from the catalog in
 * docs/errors.md and a message that says what to do about it.
 */
export const ErrorCodes = {
  CONFIG_INVALID: 'CONFIG_INVALID',
  CONNECTOR_NOT_FOUND: 'CONNECTOR_NOT_FOUND',
  CONNECTOR_EXISTS: 'CONNECTOR_EXISTS',
  CONNECTOR_NOT_STOPPED: 'CONNECTOR_NOT_STOPPED',
  TOPICS_RESET_NOT_STOPPED: 'TOPICS_RESET_NOT_STOPPED',
  TASK_NOT_FOUND: 'TASK_NOT_FOUND',
  PLUGIN_NOT_FOUND: 'PLUGIN_NOT_FOUND',
  PLUGIN_LOAD_FAILED: 'PLUGIN_LOAD_FAILED',
  REQUEST_INVALID: 'REQUEST_INVALID',
  UNAUTHORIZED: 'UNAUTHORIZED',
  CROSS_SITE_REFUSED: 'CROSS_SITE_REFUSED',
  ROUTE_NOT_FOUND: 'ROUTE_NOT_FOUND',
  LOGGER_NOT_FOUND: 'LOGGER_NOT_FOUND',
  OFFSETS_INVALID: 'OFFSETS_INVALID',
  RETRIABLE: 'RETRIABLE',
  KAFKA_ERROR: 'KAFKA_ERROR',
  STORE_IO: 'STORE_IO',
  STORE_UNSUPPORTED: 'STORE_UNSUPPORTED',
  BACKUP_OBJECT_INVALID: 'BACKUP_OBJECT_INVALID',
  BACKUP_NOT_FOUND: 'BACKUP_NOT_FOUND',
  BACKUP_ID_CONFLICT: 'BACKUP_ID_CONFLICT',
  BACKUP_NOT_POSSIBLE: 'BACKUP_NOT_POSSIBLE',
  BACKUP_VERIFY_FAILED: 'BACKUP_VERIFY_FAILED',
  ENCRYPTION_KEY_UNAVAILABLE: 'ENCRYPTION_KEY_UNAVAILABLE',
  DISPATCHER_FAILED: 'DISPATCHER_FAILED',
  TASK_FENCED: 'TASK_FENCED',
  CLUSTER_SETUP_INVALID: 'CLUSTER_SETUP_INVALID',
  NOT_LEADER: 'NOT_LEADER',
  INTERNAL: 'INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class ColdstoreError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ColdstoreError';
    this.code = code;
  }
}

/**
 * Thrown by a task when the operation may succeed later (store unreachable,
 * broker down). The runtime backs off and retries the same work; nothing is
 * skipped or committed meanwhile.
 */
export class RetriableError extends ColdstoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.RETRIABLE, message, options);
    this.name = 'RetriableError';
  }
}

export interface FieldError {
  field: string;
  message: string;
}

/** A config with one or more bad fields; every field is named, not just the first. */
export class ConfigError extends ColdstoreError {
  readonly fields: FieldError[];
  constructor(fields: FieldError[], context = 'configuration') {
    super(ErrorCodes.CONFIG_INVALID, `Invalid ${context}: ${fields.map((f) => `${f.field}: ${f.message}`).join('; ')}`);
    this.name = 'ConfigError';
    this.fields = fields;
  }
}

export function isRetriable(err: unknown): boolean {
  return err instanceof RetriableError;
}

/** An error's stack for traces, led by its code when it has one. */
export function describeError(err: unknown): string {
  if (err instanceof ColdstoreError) return `[${err.code}] ${err.stack ?? `${err.name}: ${err.message}`}`;
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return String(err);
}

/** Whether an error says another client took this one's role over (TASK_FENCED). */
export function isFenced(err: unknown): err is ColdstoreError {
  return err instanceof ColdstoreError && err.code === ErrorCodes.TASK_FENCED;
}
