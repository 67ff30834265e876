import { bootstrap } from './kafka.js';

/** The consumer-group session of test clusters: short, so failover tests do not wait long. */
export const CLUSTER_SESSION_TIMEOUT_MS = 6_000;

/** The worker config of one member of a test cluster: its own group and storage topics, short sessions. */
export function clusterWorkerConfig(group: string, workerId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'bootstrap.servers': bootstrap(),
    'group.id': group,
    'worker.id': workerId,
    'config.storage.topic': `${group}-configs`,
    'offset.storage.topic': `${group}-offsets`,
    'status.storage.topic': `${group}-status`,
    'offset.storage.partitions': 5,
    'status.storage.partitions': 2,
    'session.timeout.ms': CLUSTER_SESSION_TIMEOUT_MS,
    'heartbeat.interval.ms': 1_000,
    'offset.flush.interval.ms': 500,
    ...extra,
  };
}
