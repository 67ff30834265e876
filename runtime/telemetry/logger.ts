import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs on stdout; connector configs are masked before they reach a log line (see config/secrets.ts). */
export function createLogger(level = 'info', bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { service: 'coldstore', ...bindings }, timestamp: pino.stdTimeFunctions.isoTime });
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
