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
        errors.push({ field: key, message: `file ${ref} referenced by ${whole} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
        return '';
      }
    });
  }
  return { config: out, errors };
}
