import { defineConfig, type ConfigDef, type ConfigKeys, type DescribedKey, type RawConfig } from '../api/config-def.js';
import type { ConnectorPlugin } from '../api/connector.js';
import type { FieldError } from '../api/errors.js';
import type { PluginRegistry } from '../plugins/registry.js';
import { unknownKeyWarnings, unsupportedConnectKeys } from './connect-keys.js';
import { createRedactor, resolvePlaceholders } from './placeholders.js';
import { topicsRegexProblem } from '../api/regex-syntax.js';

/** Keys every connector has, whatever its plugin. */
export const commonConnectorConfig = defineConfig({
  name: { type: 'string', required: true, importance: 'HIGH', group: 'Common', doc: 'Unique name of the connector.' },
  'connector.class': {
    type: 'string',
    required: true,
    importance: 'HIGH',
    group: 'Common',
    doc: 'Plugin class name or alias (GET /connector-plugins lists them).',
  },
  'tasks.max': { type: 'int', default: 1, min: 1, max: 1024, importance: 'HIGH', group: 'Common', doc: 'Most tasks the connector may run.' },
});

/** Keys every sink connector has: what to consume. */
export const sinkConnectorConfig = commonConnectorConfig.extend({
  topics: { type: 'list', group: 'Common', doc: 'Topics to consume. Exactly one of topics and topics.regex.' },
  'topics.regex': {
    type: 'string',
    group: 'Common',
    doc: 'Regular expression of topics to consume, matched against the whole name, in the syntax Java, JavaScript and POSIX extended regular expressions (what the Kafka consumer subscription uses) read alike: (?...) groups, backreferences, {,n}, \\d, \\p{...}, possessive quantifiers and other syntax outside it are refused with what to write instead. Exactly one of topics and topics.regex.',
    check: topicsRegexProblem,
  },
});

/** Keys every source connector has: how its records are delivered. */
export const sourceConnectorConfig = commonConnectorConfig.extend({
  'transaction.boundary': {
    type: 'string',
    default: 'none',
    oneOf: ['none', 'poll'],
    group: 'Common',
    doc: 'poll: the records of each poll are produced in one Kafka transaction together with their source offsets (kept in offset.storage.topic), so read_committed consumers see each record exactly once, also across crashes. none: idempotent producer; a crash may repeat what was in flight.',
  },
});

export interface ConnectorValidation {
  plugin: ConnectorPlugin | undefined;
  /** The config with placeholders resolved: what a task would receive. */
  resolved: RawConfig;
  errors: FieldError[];
  /** Keys accepted but read by nothing (likely typos): reported, not refused, as Kafka Connect accepts them. */
  warnings: FieldError[];
  definition: ConfigDef<ConfigKeys>;
}

export function definitionFor(plugin: ConnectorPlugin | undefined): ConfigDef<ConfigKeys> {
  const base: ConfigDef<ConfigKeys> = plugin?.type === 'sink' ? sinkConnectorConfig : plugin?.type === 'source' ? sourceConnectorConfig : commonConnectorConfig;
  return plugin ? base.extend(plugin.config.keys) : base;
}

/** Validates a connector config and reports every bad field, never just the first. */
export function validateConnectorConfig(registry: PluginRegistry, raw: RawConfig): ConnectorValidation {
  const className = raw['connector.class'];
  const plugin = className ? registry.find(className) : undefined;
  const definition = definitionFor(plugin);
  const { config: resolved, errors: placeholderErrors } = resolvePlaceholders(raw);
  const { errors } = definition.validate(resolved);
  const extra: FieldError[] = unsupportedConnectKeys(raw, definition);
  if (className && !plugin) {
    extra.push({ field: 'connector.class', message: `unknown connector plugin "${className}"; known: ${registry.names().join(', ')}` });
  }
  if (plugin?.type === 'sink') {
    const hasTopics = (resolved['topics'] ?? '').trim() !== '';
    const hasRegex = (resolved['topics.regex'] ?? '').trim() !== '';
    if (hasTopics === hasRegex) {
      extra.push({ field: 'topics', message: 'set exactly one of topics and topics.regex' });
    }
  }
  if (plugin?.validateAll && errors.length === 0) extra.push(...plugin.validateAll(resolved));
  // Messages quote bad values; a value that came from a placeholder is quoted as the placeholder.
  const redact = createRedactor(raw);
  const all = [...placeholderErrors, ...errors, ...extra].map((e) => ({ ...e, message: redact(e.message) }));
  return { plugin, resolved, errors: all, warnings: unknownKeyWarnings(raw, definition, plugin), definition };
}

/** The Kafka Connect `ConfigInfos` shape answered by PUT /connector-plugins/{type}/config/validate. */
export type ConfigInfosResult = ReturnType<typeof configInfos>;

export function configInfos(validation: ConnectorValidation, raw: RawConfig, name: string) {
  const declared: DescribedKey[] = validation.definition.describe();
  // A refused key that is not declared (key.converter, transforms, ...) still gets an entry, so its error shows where clients look.
  const refused = [...new Set(validation.errors.map((e) => e.field))].filter((field) => !declared.some((d) => d.name === field));
  const synthesized = new Set(refused);
  const described: DescribedKey[] = [
    ...declared,
    ...refused.map((field) => ({
      name: field,
      type: 'string' as const,
      required: false,
      defaultValue: null,
      importance: 'LOW' as const,
      group: 'Common',
      doc: 'Not declared by this connector.',
      allowed: null,
    })),
  ];
  const errorsByField = new Map<string, string[]>();
  for (const e of validation.errors) errorsByField.set(e.field, [...(errorsByField.get(e.field) ?? []), e.message]);
  const groups = [...new Set(described.map((d) => d.group ?? 'Common'))];
  return {
    name,
    error_count: validation.errors.length,
    groups,
    configs: described.map((d, order) => ({
      definition: {
        name: d.name,
        type: d.type.toUpperCase(),
        required: d.required,
        default_value: d.defaultValue,
        importance: d.importance,
        documentation: d.doc,
        group: d.group,
        width: 'NONE',
        display_name: d.name,
        dependents: [],
        order,
      },
      value: {
        name: d.name,
        // A refused undeclared key may hold credentials (value.converter.basic.auth.user.info): nothing says it is not a secret, so its value is not echoed.
        value: synthesized.has(d.name) ? null : validation.definition.isSecret(d.name) && raw[d.name] !== undefined ? '[hidden]' : (raw[d.name] ?? null),
        recommended_values: d.allowed ?? [],
        errors: errorsByField.get(d.name) ?? [],
        visible: true,
      },
    })),
    // Not in Kafka Connect's ConfigInfos (clients ignore unknown fields): a warning must not raise error_count.
    warnings: validation.warnings,
  };
}
