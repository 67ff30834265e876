import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs on stdout; connector configs are masked before they reach a log line (see config/secrets.ts). */
export function createLogger(level = 'info', bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { service: 'coldstore', ...bindings }, timestamp: pino.stdTimeFunctions.isoTime });
}
