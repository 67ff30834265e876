import { createHash } from 'node:crypto';

/** A short, stable hash of a JSON value (callers sort what has no inherent order). */
export function fingerprint(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}

/** A config's fingerprint, independent of key order. */
export function configFingerprint(config: Record<string, string>): string {
  return fingerprint(Object.fromEntries(Object.entries(config).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}
