import { pino, type DestinationStream, type Logger } from 'pino';
import { LogLevels } from './log-levels.js';

export type { Logger };

/**
 * JSON logs on stdout (or `destination`), the level as a name (`"level":"info"`, as
 * people and log shippers read it); connector configs are masked before they reach a log
 * line (see config/secrets.ts). Levels can be changed at run time (LogLevels, /admin/loggers).
 */
export function createLogger(level = 'info', bindings: Record<string, unknown> = {}, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'coldstore', ...bindings },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  const log = destination ? pino(options, destination) : pino(options);
  new LogLevels(log);
  return log;
}

/**
 * A child logger whose error objects (or messages), `trace` and `reason` fields pass through `redact`
 * (a connector's placeholder redactor) before they are written.
 */
export function redactingLogger(log: Logger, redact: (text: string) => string): Logger {
  return log.child(
    {},
    {
      serializers: {
        err: (err: Error | string) => {
          if (typeof err !== 'object' || err === null) return redact(String(err));
          const out = pino.stdSerializers.err(err);
          return { ...out, message: redact(out.message), stack: redact(out.stack ?? '') };
        },
        trace: (trace: string) => redact(String(trace)),
        reason: (reason: string) => redact(String(reason)),
      },
    },
  );
}
