import type { KafkaCluster } from '../api/cluster.js';
import { ColdstoreError, ErrorCodes } from '../api/errors.js';
import type { WorkerConfig } from '../config/worker-config.js';

export interface StateTopic {
  setting: 'config.storage.topic' | 'offset.storage.topic' | 'status.storage.topic';
  name: string;
  partitions: number;
  replicationFactor: number;
}

export function stateTopics(config: WorkerConfig): StateTopic[] {
  return [
    { setting: 'config.storage.topic', name: config['config.storage.topic'], partitions: 1, replicationFactor: config['config.storage.replication.factor'] },
    {
      setting: 'offset.storage.topic',
      name: config['offset.storage.topic'],
      partitions: config['offset.storage.partitions'],
      replicationFactor: config['offset.storage.replication.factor'],
    },
    {
      setting: 'status.storage.topic',
      name: config['status.storage.topic'],
      partitions: config['status.storage.partitions'],
      replicationFactor: config['status.storage.replication.factor'],
    },
  ];
}

/** Why an existing topic cannot hold cluster state, or undefined when it can. */
function unfitness(topic: StateTopic, partitions: number, configs: Record<string, string>): string | undefined {
  const policy = configs['cleanup.policy'];
  const policies = (policy ?? '').split(',').map((p) => p.trim());
  if (!policies.includes('compact')) {
    return `is not compacted (cleanup.policy=${policy ?? 'the broker default, delete'}): old connector configs and offsets would be deleted. Set cleanup.policy=compact on it, or name another topic.`;
  }
  if (policies.includes('delete')) {
    return `has cleanup.policy=${policy}: time or size retention would delete state that is never rewritten. Set cleanup.policy=compact on it.`;
  }
  if (topic.setting === 'config.storage.topic' && partitions !== 1) {
    return `has ${partitions} partitions; it must have exactly 1, so that every worker reads configs and assignments in one order.`;
  }
  return undefined;
}

/**
 * Checks the three state topics before the worker writes anything: missing ones are
 * created compacted; an existing one that would lose state (not compacted, or with
 * retention) stops the worker with an error naming each problem. Returns the topics with
 * the partitions they really have (an existing topic keeps its own count, whatever the settings say).
 */
export async function ensureStateTopics(cluster: KafkaCluster, topics: StateTopic[]): Promise<StateTopic[]> {
  const problems: string[] = [];
  const missing: StateTopic[] = [];
  const actual: StateTopic[] = [];
  for (const topic of topics) {
    const described = await cluster.describeTopic(topic.name, { configs: true });
    if (!described) {
      missing.push(topic);
      actual.push(topic);
      continue;
    }
    actual.push({ ...topic, partitions: described.partitions });
    const problem = unfitness(topic, described.partitions, described.configs ?? {});
    if (problem) problems.push(`${topic.setting} ${topic.name} ${problem}`);
  }
  if (problems.length > 0) {
    throw new ColdstoreError(ErrorCodes.CLUSTER_SETUP_INVALID, `The worker cannot keep its cluster state safely; nothing was written. ${problems.join(' ')}`);
  }
  for (const topic of missing) {
    await cluster.createTopic(topic.name, topic.partitions, { replicationFactor: topic.replicationFactor, configs: { 'cleanup.policy': 'compact' } });
  }
  // Another worker may have created one a moment earlier with other settings: its count is the one to follow.
  for (const topic of missing) {
    const described = await cluster.describeTopic(topic.name);
    const i = actual.indexOf(topic);
    if (described && described.partitions > 0) actual[i] = { ...topic, partitions: described.partitions };
  }
  return actual;
}
