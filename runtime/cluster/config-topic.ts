import { configFingerprint } from '../config/fingerprint.js';
import type { ConnectorRecord } from '../storage/config-store.js';
import type { StateTable } from '../storage/kafka-checkpoint-store.js';
import { EMPTY_ASSIGNMENT, type Assignment } from './assignor.js';
import type { StoredTaskConfigs } from './local-connector.js';

/** The namespaces of the config topic: the cluster's desired state. */
export const CONFIG_NAMESPACES = { connectors: 'connectors', taskConfigs: 'task-configs', assignment: 'assignment', restarts: 'restarts' };

export function connectorRecords(table: StateTable): Record<string, ConnectorRecord> {
  return table.entries(CONFIG_NAMESPACES.connectors) as Record<string, ConnectorRecord>;
}

export function currentAssignment(table: StateTable): Assignment {
  return table.get<Assignment>(CONFIG_NAMESPACES.assignment, 'current') ?? EMPTY_ASSIGNMENT;
}

/** A connector's stored task configs, if they were computed from its current config. */
export function currentTaskConfigs(table: StateTable, name: string): StoredTaskConfigs | undefined {
  const record = connectorRecords(table)[name];
  const stored = table.get<StoredTaskConfigs>(CONFIG_NAMESPACES.taskConfigs, name);
  return record && stored && stored.version === configFingerprint(record.config) ? stored : undefined;
}
