import { readFileSync } from 'node:fs';
import type { RawConfig } from '../api/config-def.js';
import type { FieldError } from '../api/errors.js';
import { parseProperties, PropertiesSyntaxError } from './properties.js';

/**
 * `${env:NAME}`, `${file:/path}` (the whole file, trimmed) and `${file:/path:key}` (one key of
 * a Java properties file, Kafka Connect's FileConfigProvider form; the path ends at its first
 * colon) references. They are stored and shown unresolved; only the task (and validation)
 * sees resolved values, so secrets never reach the config store or the REST API.
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
      const found = readFileReference(ref, whole);
      if ('error' in found) {
        errors.push({ field: key, message: found.error });
        return '';
      }
      return found.value;
    });
  }
  return { config: out, errors };
}

/** Messages name the file, the key and the placeholder, never other content of the file. */
function readFileReference(ref: string, whole: string): { value: string } | { error: string } {
  const colon = ref.indexOf(':');
  const path = colon < 0 ? ref : ref.slice(0, colon);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return { error: `file ${path} referenced by ${whole} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
  if (colon < 0) return { value: text.trim() };
  const name = ref.slice(colon + 1);
  if (name === '') return { error: `${whole} names no key after the file path; write \${file:${path}:KEY}, or \${file:${path}} for the whole file` };
  let properties: Map<string, string>;
  try {
    properties = parseProperties(text);
  } catch (err) {
    if (!(err instanceof PropertiesSyntaxError)) throw err;
    return { error: `file ${path} referenced by ${whole} is not a valid properties file (${err.message})` };
  }
  const value = properties.get(name);
  if (value === undefined) return { error: `key ${name} not found in file ${path} referenced by ${whole}` };
  return { value };
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
