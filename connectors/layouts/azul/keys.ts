import { isAzulModel, type AzulModel } from './registry.js';

/** Where an Azul topic's events go: `<source>/<model>/<action>/…` in the events bucket. */
export interface AzulTopic {
  prefix: string;
  source: string;
  model: AzulModel;
  action: string;
}

/** The action of system models in bundle keys (they have no per-topic action). */
export const SYSTEM_ACTION = 'default';
/** The source part of system models' bundle keys (their topics carry no source). */
export const SYSTEM_SOURCE = 'system';

const SEGMENT = /^[A-Za-z0-9_-]+$/;

/**
 * `azul.<prefix>.<source>.binary.<action>` or `azul.<prefix>.system.<model>`;
 * undefined for any other name. The prefix may itself contain dots.
 */
export function parseAzulTopic(topic: string): AzulTopic | undefined {
  const parts = topic.split('.');
  if (parts[0] !== 'azul' || parts.length < 4 || !parts.every((p) => SEGMENT.test(p))) return undefined;
  const n = parts.length;
  if (n >= 5 && parts[n - 2] === 'binary') return { prefix: parts.slice(1, n - 3).join('.'), source: parts[n - 3]!, model: 'binary', action: parts[n - 1]! };
  const model = parts[n - 1]!;
  if (parts[n - 2] === SYSTEM_SOURCE && model !== 'binary' && isAzulModel(model))
    return { prefix: parts.slice(1, n - 2).join('.'), source: SYSTEM_SOURCE, model, action: SYSTEM_ACTION };
  return undefined;
}

/**
 * RFC 3339 with nanoseconds as Go's time.RFC3339Nano writes a UTC time: the
 * fraction's trailing zeros trimmed (no fraction at all when it is zero), then `Z`.
 */
export function rfc3339Nano(micros: bigint): string {
  const seconds = micros / 1_000_000n - (micros % 1_000_000n < 0n ? 1n : 0n);
  const fraction = micros - seconds * 1_000_000n;
  const whole = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  const digits = (fraction * 1000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${whole}${digits ? `.${digits}` : ''}Z`;
}

/** `<source>/<model>/<action>/<ts>-<count>-<kafka_key>` of a bundle whose last event has this timestamp and key. */
export function azulBundleKey(topic: AzulTopic, lastTimestampMicros: bigint, count: number, lastKafkaKey: string): string {
  return `${topic.source}/${topic.model}/${topic.action}/${rfc3339Nano(lastTimestampMicros)}-${count}-${lastKafkaKey}`;
}

/** Hex digits of the bulk's sha256 in a collision key. */
const COLLISION_DIGITS = 16;

/**
 * Where a bulk goes when its Azul key already holds a different bulk (the same last
 * event, count and timestamp, other events before it): the key plus `~` and the first
 * 16 hex digits of the bulk's sha256, so the name depends on the bulk alone.
 */
export function collisionBundleKey(key: string, bulkSha256: string): string {
  return `${key}~${bulkSha256.slice(0, COLLISION_DIGITS)}`;
}

export interface ParsedAzulBundleKey {
  source: string;
  model: string;
  action: string;
  timestamp: string;
  count: number;
  kafkaKey: string;
}

/** The parts of an azul bundle key; undefined for any other key. */
export function parseAzulBundleKey(key: string): ParsedAzulBundleKey | undefined {
  const m = /^([^/]+)\/([^/]+)\/([^/]+)\/(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z)-(\d+)-(.+)$/.exec(key);
  if (!m) return undefined;
  return { source: m[1]!, model: m[2]!, action: m[3]!, timestamp: m[4]!, count: Number(m[5]), kafkaKey: m[6]! };
}

/** Where a stream blob is kept in the streams bucket. */
export function streamKey(ref: { source: string; label: string; sha256: string }): string {
  return `${ref.source}/${ref.label}/${ref.sha256}`;
}
