import type { RawConfig } from '../api/config-def.js';
import type { ConnectorPlugin } from '../api/connector.js';
import { ColdstoreError, ConfigError, ErrorCodes } from '../api/errors.js';
import { validateConnectorConfig } from '../config/connector-config.js';
import type { PluginRegistry } from '../plugins/registry.js';
import type { ConnectorRecord } from '../storage/config-store.js';

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
  return { record: { name, config: full, target: existing?.target ?? 'RUNNING' }, plugin: validation.plugin };
}

/** Offsets change only while the connector is STOPPED (Kafka Connect's rule). */
export function requireStopped(record: ConnectorRecord): void {
  if (record.target !== 'STOPPED') {
    throw new ColdstoreError(
      ErrorCodes.CONNECTOR_NOT_STOPPED,
      `Connector ${record.name} must be in the STOPPED state before its offsets can be changed: PUT /connectors/${record.name}/stop first.`,
    );
  }
}
