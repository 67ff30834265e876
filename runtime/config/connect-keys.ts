import type { ConfigDef, ConfigKeys, RawConfig } from '../api/config-def.js';
import type { ConnectorPlugin } from '../api/connector.js';
import type { FieldError } from '../api/errors.js';
import type { Logger } from '../telemetry/logger.js';

/**
 * Kafka Connect framework keys coldstore does not implement. Connect configs carry them
 * out of habit; accepting them silently would promise a behaviour (a converter, a
 * transform, a dead letter queue) that never happens, so each is refused with what to
 * use instead.
 */
const FAMILIES: { matches: (key: string) => boolean; advice: (definition: ConfigDef<ConfigKeys>) => string }[] = [
  {
    matches: (key) => /^(key|value|header)\.converter(\.|$)/.test(key),
    advice: () =>
      'is a Kafka Connect converter setting; coldstore keeps keys, values and headers byte-exact (backed up and restored as the bytes Kafka holds), so no converter applies: remove it',
  },
  {
    matches: (key) => /^(transforms|predicates)(\.|$)/.test(key),
    advice: (definition) =>
      `is a Kafka Connect transform (SMT) setting; coldstore does not run transforms, records are backed up and restored unchanged: remove it${
        definition.keys['topic.rename'] ? ' (to restore under other topic names use topic.rename or topic.rename.regex)' : ''
      }${definition.keys['topics.exclude.regex'] ? ' (to leave topics out use topics.exclude.regex)' : ''}`,
  },
  {
    matches: (key) => key.startsWith('errors.retry.'),
    advice: () =>
      'is a Kafka Connect error-handling setting; coldstore retries retriable failures (broker or store away) itself, with capped exponential backoff, and fails the task with a trace on the others: remove it',
  },
  {
    matches: (key) => key.startsWith('errors.'),
    advice: (definition) =>
      `is a Kafka Connect error-tolerance setting; coldstore skips no record and has no dead letter queue: a record it cannot handle fails the task with a trace${
        definition.keys['on.bad.object'] ? ', and on.bad.object=skip skips unreadable backup objects (reported in the task status)' : ''
      }: remove it`,
  },
];

/**
 * The framework keys of the config coldstore refuses, each with its advice. A key the
 * plugin declares itself is the plugin's, whatever family its name looks like.
 */
export function unsupportedConnectKeys(raw: RawConfig, definition: ConfigDef<ConfigKeys>): FieldError[] {
  return Object.keys(raw).flatMap((field) => {
    if (field in definition.keys) return [];
    const family = FAMILIES.find((f) => f.matches(field));
    return family ? [{ field, message: family.advice(definition) }] : [];
  });
}

/** Prefixes whose keys go to the task's Kafka client: not declared one by one, yet meant. */
function passThroughPrefix(plugin: ConnectorPlugin | undefined): string | undefined {
  return plugin?.type === 'sink' ? 'consumer.override.' : plugin?.type === 'source' ? 'producer.override.' : undefined;
}

export interface UnknownKey {
  field: string;
  /** A declared key within edit distance 2: the likely intended one. */
  suggestion?: string;
}

/**
 * Keys neither declared nor refused. Kafka Connect accepts them (a connector may read keys
 * it does not declare), so coldstore does too, but says so: most are typos.
 */
export function unknownKeys(raw: RawConfig, definition: ConfigDef<ConfigKeys>, plugin: ConnectorPlugin | undefined): UnknownKey[] {
  if (!plugin) return [];
  const prefix = passThroughPrefix(plugin);
  const declared = Object.keys(definition.keys);
  return Object.keys(raw)
    .filter((key) => !(key in definition.keys) && !(prefix && key.startsWith(prefix)) && !FAMILIES.some((f) => f.matches(key)))
    .map((field) => {
      const suggestion = closestKey(field, declared);
      return suggestion ? { field, suggestion } : { field };
    });
}

/** The validate answer's `warnings`: one per unknown key. */
export function unknownKeyWarnings(raw: RawConfig, definition: ConfigDef<ConfigKeys>, plugin: ConnectorPlugin | undefined): FieldError[] {
  return unknownKeys(raw, definition, plugin).map(({ field, suggestion }) => ({
    field,
    message: `is not a setting of ${plugin?.className}; it is stored and has no effect${suggestion ? `. Did you mean ${suggestion}?` : ''}`,
  }));
}

/** Logged when a connector starts (after each create or update), so a typo shows in the worker log as well as in validate. */
export function logUnknownKeys(log: Logger, plugin: ConnectorPlugin, definition: ConfigDef<ConfigKeys>, raw: RawConfig): void {
  const found = unknownKeys(raw, definition, plugin);
  if (found.length === 0) return;
  const listed = found.map(({ field, suggestion }) => (suggestion ? `${field} (did you mean ${suggestion}?)` : field)).join(', ');
  log.warn({ unknownKeys: found }, `config keys that no setting of ${plugin.className} reads, ignored: ${listed}`);
}

/** The declared key within edit distance 2 (the nearest, the first of equals), if any. */
export function closestKey(key: string, declared: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of declared) {
    const d = editDistance(key, candidate, bestDistance);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance, or `limit` as soon as it is known to be at least that. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    if (Math.min(...current) >= limit) return limit;
    previous = current;
  }
  return Math.min(previous[b.length]!, limit);
}
