import { describe, expect, it } from 'vitest';
import type { KafkaCluster, TopicDescription } from '../../runtime/api/cluster.js';
import { ColdstoreError, ErrorCodes } from '../../runtime/api/errors.js';
import { ensureStateTopics, stateTopics, type StateTopic } from '../../runtime/cluster/state-topics.js';
import { parseWorkerConfig } from '../../runtime/config/worker-config.js';

interface Created {
  topic: string;
  partitions: number;
  options?: { replicationFactor?: number; configs?: Record<string, string> };
}

/** An in-memory cluster: only topic description and creation behave; the rest must not be called. */
class FakeCluster implements KafkaCluster {
  async createPartitions(): Promise<void> {}
  async groupMembers(): Promise<{ memberId: string; clientId: string }[]> {
    return [];
  }
  readonly topics = new Map<string, TopicDescription>();
  readonly created: Created[] = [];
  readonly described: { topic: string; options?: { configs?: boolean } }[] = [];

  withTopic(topic: string, partitions: number, configs: Record<string, string>): this {
    this.topics.set(topic, { topic, partitions, replicationFactor: 3, configs });
    return this;
  }

  async describeTopic(topic: string, options?: { configs?: boolean }): Promise<TopicDescription | undefined> {
    this.described.push({ topic, options });
    const found = this.topics.get(topic);
    return found ? { ...found, configs: options?.configs ? { ...found.configs } : undefined } : undefined;
  }

  async createTopic(topic: string, partitions: number, options?: { replicationFactor?: number; configs?: Record<string, string> }): Promise<void> {
    this.created.push({ topic, partitions, options });
    if (!this.topics.has(topic))
      this.topics.set(topic, { topic, partitions, replicationFactor: options?.replicationFactor ?? 1, configs: options?.configs ?? {} });
  }

  listTopics(): Promise<string[]> {
    throw new Error('not used');
  }
  listGroups(): Promise<string[]> {
    throw new Error('not used');
  }
  groupOffsets(): never {
    throw new Error('not used');
  }
  commitGroupOffsets(): never {
    throw new Error('not used');
  }
  endOffsets(): never {
    throw new Error('not used');
  }
  partitionBounds(): never {
    throw new Error('not used');
  }
  committedRecordBetween(): never {
    throw new Error('not used');
  }
}

const TOPICS: StateTopic[] = [
  { setting: 'config.storage.topic', name: 'cs-configs', partitions: 1, replicationFactor: 3 },
  { setting: 'offset.storage.topic', name: 'cs-offsets', partitions: 25, replicationFactor: 3 },
  { setting: 'status.storage.topic', name: 'cs-status', partitions: 5, replicationFactor: -1 },
];

async function failure(cluster: KafkaCluster, topics = TOPICS): Promise<ColdstoreError> {
  const err = await ensureStateTopics(cluster, topics).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ColdstoreError);
  expect((err as ColdstoreError).code).toBe(ErrorCodes.CLUSTER_SETUP_INVALID);
  return err as ColdstoreError;
}

describe('stateTopics', () => {
  it('derives the three topics from the worker config, the config topic with 1 partition', () => {
    const config = parseWorkerConfig({
      'bootstrap.servers': 'k:9092',
      'group.id': 'g',
      'offset.storage.partitions': 7,
      'config.storage.replication.factor': 2,
    });
    expect(stateTopics(config)).toEqual([
      { setting: 'config.storage.topic', name: 'coldstore-configs', partitions: 1, replicationFactor: 2 },
      { setting: 'offset.storage.topic', name: 'coldstore-offsets', partitions: 7, replicationFactor: -1 },
      { setting: 'status.storage.topic', name: 'coldstore-status', partitions: 5, replicationFactor: -1 },
    ]);
  });
});

describe('ensureStateTopics', () => {
  it('creates missing topics compacted, with their partitions and replication factor, asking for configs', async () => {
    const cluster = new FakeCluster();
    await ensureStateTopics(cluster, TOPICS);
    expect(cluster.created).toEqual([
      { topic: 'cs-configs', partitions: 1, options: { replicationFactor: 3, configs: { 'cleanup.policy': 'compact' } } },
      { topic: 'cs-offsets', partitions: 25, options: { replicationFactor: 3, configs: { 'cleanup.policy': 'compact' } } },
      { topic: 'cs-status', partitions: 5, options: { replicationFactor: -1, configs: { 'cleanup.policy': 'compact' } } },
    ]);
    // Checked with their configs first; after creating, described again for the partitions really there.
    expect(cluster.described.slice(0, 3).map((d) => d.options?.configs)).toEqual([true, true, true]);
  });

  it('leaves a fine existing compacted topic as it is and creates only the missing ones', async () => {
    const cluster = new FakeCluster()
      .withTopic('cs-configs', 1, { 'cleanup.policy': 'compact' })
      .withTopic('cs-offsets', 50, { 'cleanup.policy': ' compact ' });
    const followed = await ensureStateTopics(cluster, TOPICS);
    expect(cluster.created.map((c) => c.topic)).toEqual(['cs-status']);
    expect(cluster.topics.get('cs-offsets')?.partitions).toBe(50);
    // The worker follows the partitions the topic has, not the 25 its settings would create.
    expect(followed.map((t) => [t.name, t.partitions])).toEqual([
      ['cs-configs', 1],
      ['cs-offsets', 50],
      ['cs-status', 5],
    ]);
  });

  it('accepts all three existing and fine: nothing created', async () => {
    const cluster = new FakeCluster()
      .withTopic('cs-configs', 1, { 'cleanup.policy': 'compact' })
      .withTopic('cs-offsets', 3, { 'cleanup.policy': 'compact', 'retention.ms': '-1' })
      .withTopic('cs-status', 1, { 'cleanup.policy': 'compact' });
    await ensureStateTopics(cluster, TOPICS);
    expect(cluster.created).toEqual([]);
  });

  it('refuses an existing topic without cleanup.policy (the broker default is delete), creating nothing', async () => {
    const cluster = new FakeCluster().withTopic('cs-offsets', 25, {});
    const err = await failure(cluster);
    expect(err.message).toContain('offset.storage.topic cs-offsets');
    expect(err.message).toContain('is not compacted');
    expect(err.message).toContain('cleanup.policy=compact');
    expect(err.message).not.toContain('cs-configs');
    expect(cluster.created).toEqual([]);
  });

  it('refuses cleanup.policy=delete', async () => {
    const cluster = new FakeCluster().withTopic('cs-status', 5, { 'cleanup.policy': 'delete' });
    const err = await failure(cluster);
    expect(err.message).toContain('status.storage.topic cs-status');
    expect(err.message).toContain('cleanup.policy=delete');
    expect(cluster.created).toEqual([]);
  });

  it('refuses cleanup.policy=compact,delete (retention would delete state)', async () => {
    const cluster = new FakeCluster().withTopic('cs-offsets', 25, { 'cleanup.policy': 'compact,delete' });
    const err = await failure(cluster);
    expect(err.message).toContain('offset.storage.topic cs-offsets');
    expect(err.message).toContain('cleanup.policy=compact,delete');
    expect(cluster.created).toEqual([]);
  });

  it('refuses a config topic with 3 partitions', async () => {
    const cluster = new FakeCluster().withTopic('cs-configs', 3, { 'cleanup.policy': 'compact' });
    const err = await failure(cluster);
    expect(err.message).toContain('config.storage.topic cs-configs');
    expect(err.message).toContain('3 partitions');
    expect(cluster.created).toEqual([]);
  });

  it('names every bad topic and its setting together, and creates none of the missing ones', async () => {
    const cluster = new FakeCluster()
      .withTopic('cs-configs', 3, { 'cleanup.policy': 'compact' })
      .withTopic('cs-status', 5, { 'cleanup.policy': 'compact,delete' });
    const err = await failure(cluster);
    expect(err.message).toContain('config.storage.topic cs-configs');
    expect(err.message).toContain('3 partitions');
    expect(err.message).toContain('status.storage.topic cs-status');
    expect(err.message).toContain('cleanup.policy=compact,delete');
    expect(err.message).not.toContain('offset.storage.topic');
    // cs-offsets is missing but must not be created while another topic is bad.
    expect(cluster.created).toEqual([]);
    expect(cluster.topics.has('cs-offsets')).toBe(false);
  });
});
