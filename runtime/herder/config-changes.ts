import type { RawConfig } from '../api/config-def.js';
import type { ConnectorPlugin } from '../api/connector.js';
import { ColdstoreError, ConfigError, ErrorCodes } from '../api/errors.js';
import { validateConnectorConfig } from '../config/connector-config.js';
import type { PluginRegistry } from '../plugins/registry.js';
import type { ConnectorRecord, TargetState } from '../storage/config-store.js';

const TARGET_STATES: readonly TargetState[] = ['RUNNING', 'PAUSED', 'STOPPED'];

export function sameConfig(a: RawConfig, b: RawConfig): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

/**
 * The checks of a create or config change, the same in standalone and cluster mode:
 * the record to store, or 'unchanged' when the same config is given again (no restart).
 */
export function acceptConfig(
  plugins: PluginRegistry,
  name: string,
  config: RawConfig,
  existing: ConnectorRecord | undefined,
  mustNotExist: boolean,
  initialTarget: TargetState = 'RUNNING',
): { record: ConnectorRecord; plugin: ConnectorPlugin } | 'unchanged' {
  if (existing && mustNotExist)
    throw new ColdstoreError(ErrorCodes.CONNECTOR_EXISTS, `Connector ${name} already exists. Use PUT /connectors/${name}/config to change it.`);
  if (config['name'] !== undefined && config['name'] !== name) {
    throw new ConfigError([{ field: 'name', message: `must match the connector name in the path ("${name}")` }], 'connector config');
  }
  const full = { ...config, name };
  if (existing && sameConfig(existing.config, full)) return 'unchanged';
  const validation = validateConnectorConfig(plugins, full);
  if (validation.errors.length > 0 || !validation.plugin) throw new ConfigError(validation.errors, `connector config for ${name}`);
  return { record: { name, config: full, target: existing?.target ?? initialTarget }, plugin: validation.plugin };
}

/**
 * KIP-980's `initial_state` of `POST /connectors`: the target state a new connector is
 * created in (absent: RUNNING). Case does not matter, as in Kafka Connect.
 */
export function initialTarget(value: unknown): TargetState {
  if (value === undefined || value === null) return 'RUNNING';
  const upper = typeof value === 'string' ? value.toUpperCase() : undefined;
  const target = TARGET_STATES.find((t) => t === upper);
  if (!target) {
    throw new ColdstoreError(
      ErrorCodes.REQUEST_INVALID,
      `initial_state must be one of ${TARGET_STATES.join(', ')} (got ${JSON.stringify(value)}); leave it out to create the connector RUNNING.`,
    );
  }
  return target;
}

/** A PATCH body (KIP-477): keys set to null are removed, the others replace or add to the current config. */
export interface ConfigPatch {
  set: RawConfig;
  remove: string[];
}

export function patchedConfig(current: RawConfig, patch: ConfigPatch): RawConfig {
  const merged: RawConfig = { ...current, ...patch.set };
  for (const key of patch.remove) delete merged[key];
  return merged;
}

/**
 * Offsets and active topics change only while the connector is STOPPED (Kafka Connect's
 * rule for offsets). Standalone its tasks have then stopped; in cluster mode tasks on
 * other workers stop a moment later, which the cluster's topics reset checks as well.
 */
export function requireStopped(record: ConnectorRecord, what: 'offsets' | 'topics'): void {
  if (record.target === 'STOPPED') return;
  const stop = `PUT /connectors/${record.name}/stop first.`;
  throw what === 'offsets'
    ? new ColdstoreError(ErrorCodes.CONNECTOR_NOT_STOPPED, `Connector ${record.name} must be in the STOPPED state before its offsets can be changed: ${stop}`)
    : new ColdstoreError(
        ErrorCodes.TOPICS_RESET_NOT_STOPPED,
        `Connector ${record.name} is ${record.target}: its active topics can only be reset while it is STOPPED. ${stop}`,
      );
}
