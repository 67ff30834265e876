import { readFileSync } from 'node:fs';
import type { RawConfig } from '../api/config-def.js';
import type { FieldError } from '../api/errors.js';

/**
 * `${env:NAME}` and `${file:/path}` references. They are stored and shown
 * unresolved; only the task (and validation) sees resolved values, so secrets
 * never reach the config store or the REST API.
 */
const PLACEHOLDER = /\$\{(env|file):([^}]+)\}/g;

export function hasPlaceholder(value: string): boolean {
  PLACEHOLDER.lastIndex = 0;
  return PLACEHOLDER.test(value);
}

export interface Resolved {
  config: RawConfig;
  errors: FieldError[];
}

export function resolvePlaceholders(config: RawConfig, env: NodeJS.ProcessEnv = process.env): Resolved {
  const out: RawConfig = {};
  const errors: FieldError[] = [];
  for (const [key, value] of Object.entries(config)) {
    out[key] = value.replace(PLACEHOLDER, (whole, kind: string, ref: string) => {
      if (kind === 'env') {
        const found = env[ref];
        if (found !== undefined) return found;
        errors.push({ field: key, message: `environment variable ${ref} referenced by ${whole} is not set on this worker` });
        return '';
      }
      try {
        return readFileSync(ref, 'utf8').trim();
      } catch (err) {
        errors.push({
          field: key,
          message: `file ${ref} referenced by ${whole} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        });
        return '';
      }
    });
  }
  return { config: out, errors };
}

/** Shorter resolved values are not worth hiding, and replacing them (e.g. "1") would garble messages and stack traces. */
const MIN_SECRET_LENGTH = 4;

/**
 * A function that replaces, in any text (an error message, a trace, a log line),
 * every value the config's placeholders resolve to by the placeholder itself:
 * a path or URL built from `${env:TOKEN}` must not reveal the token.
 */
export function createRedactor(raw: RawConfig): (text: string) => string {
  const pairs: [string, string][] = [];
  for (const value of Object.values(raw)) {
    for (const [token] of value.matchAll(PLACEHOLDER)) {
      const resolved = resolvePlaceholders({ token }).config['token'] ?? '';
      if (resolved.length >= MIN_SECRET_LENGTH) pairs.push([resolved, token]);
    }
  }
  // Longest first, so a value containing another is replaced whole.
  pairs.sort((a, b) => b[0].length - a[0].length);
  if (pairs.length === 0) return (text) => text;
  return (text) => pairs.reduce((out, [value, placeholder]) => out.split(value).join(placeholder), text);
}
