import { ColdstoreError, ErrorCodes } from '../api/errors.js';
import type { RawConfig } from '../api/config-def.js';

/**
 * Connector configs are string maps, as in Kafka Connect. JSON numbers,
 * booleans and arrays are accepted and stored in their string form.
 */
export function toRawConfig(input: unknown, what: string): RawConfig {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ColdstoreError(ErrorCodes.REQUEST_INVALID, `${what} must be a JSON object of string values`);
  }
  const out: RawConfig = {};
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    if (value === null || value === undefined) continue;
    if (Array.isArray(value)) out[key] = value.map(String).join(',');
    else if (typeof value === 'object') {
      throw new ColdstoreError(ErrorCodes.REQUEST_INVALID, `${what}: "${key}" must be a string, number, boolean or list, not an object`);
    } else out[key] = String(value);
  }
  return out;
}

/** Keys under a prefix with the prefix removed, e.g. `kafka.security.protocol` → `security.protocol`. */
export function withPrefix(config: RawConfig, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) if (key.startsWith(prefix)) out[key.slice(prefix.length)] = value;
  return out;
}
