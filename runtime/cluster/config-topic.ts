import { configFingerprint } from '../config/fingerprint.js';
import type { ConnectorRecord } from '../storage/config-store.js';
import type { StateTable } from '../storage/kafka-checkpoint-store.js';
import { EMPTY_ASSIGNMENT, type Assignment } from './assignor.js';
import type { StoredTaskConfigs } from './local-connector.js';

/**
 * The namespaces of the config topic, the cluster's desired state, written by the leader
 * only. Task configs are written by each connector's owner, so they live in the offsets
 * topic (TASK_CONFIGS), through a writer the connector's next owner fences.
 */
export const CONFIG_NAMESPACES = { connectors: 'connectors', assignment: 'assignment', restarts: 'restarts', flushes: 'flushes' };
export const TASK_CONFIGS = 'task-configs';

export function connectorRecords(table: StateTable): Record<string, ConnectorRecord> {
  return table.entries(CONFIG_NAMESPACES.connectors) as Record<string, ConnectorRecord>;
}

export function currentAssignment(table: StateTable): Assignment {
  return table.get<Assignment>(CONFIG_NAMESPACES.assignment, 'current') ?? EMPTY_ASSIGNMENT;
}

/** A connector's stored task configs, if they were computed from its current config. */
export function currentTaskConfigs(configs: StateTable, offsets: StateTable, name: string): StoredTaskConfigs | undefined {
  const record = connectorRecords(configs)[name];
  const stored = offsets.get<StoredTaskConfigs>(TASK_CONFIGS, name);
  return record && stored && stored.version === configFingerprint(record.config) ? stored : undefined;
}
