import KafkaLib from '@confluentinc/kafka-javascript';
import type { LibrdKafkaError } from '@confluentinc/kafka-javascript';
import type { KafkaCluster, PartitionBounds, PartitionOffset, TopicDescription } from '../api/cluster.js';
import { ColdstoreError, ErrorCodes } from '../api/errors.js';
import { clientConfig, type KafkaConnection } from './client-config.js';
import { connectClient, requestFailure, watchSecurity, type SecurityWatch } from './connect.js';
import { fromKafkaError } from './errors.js';
import { committedRecordBetween } from './topic-reader.js';

const { AdminClient, KafkaConsumer, CODES, OffsetSpec, IsolationLevel } = KafkaLib;

const TIMEOUT_MS = 15_000;

/** The describeConfigs operation added by scripts/patch-kafka-client.sh. */
interface ConfigEntry {
  name: string;
  value: string | null;
  source: string;
}
type DescribeConfigs = (
  resources: { type: 'topic'; name: string }[],
  options: { timeout: number },
  cb: (err: LibrdKafkaError | null, results: { name: string; error?: LibrdKafkaError; configs: ConfigEntry[] }[]) => void,
) => void;

/** Cluster operations over one admin client: topic metadata, consumer-group offsets, offset resets. */
export class KafkaAdmin implements KafkaCluster {
  private readonly admin: ReturnType<typeof AdminClient.create>;
  private readonly security: SecurityWatch;

  constructor(
    private readonly connection: KafkaConnection,
    private readonly clientId: string,
  ) {
    this.admin = AdminClient.create(clientConfig(connection, clientId) as never);
    this.security = watchSecurity(this.admin as never);
  }

  /** A failed request; one the brokers' refusal of the credentials or certificate explains says so. */
  private fail(err: LibrdKafkaError, doing: string): Error {
    return requestFailure(err, doing, this.security);
  }

  private callback<T>(doing: string, resolve: (value: T) => void, reject: (err: Error) => void) {
    return (err: LibrdKafkaError | null | undefined, value: T) => (err ? reject(this.fail(err, doing)) : resolve(value));
  }

  /** Deletes a consumer group; a group that does not exist counts as deleted. */
  deleteGroup(groupId: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.admin.deleteGroups([groupId], { timeout: 10_000 }, (err, results) => {
        if (err) return reject(this.fail(err, `delete group ${groupId}`));
        const failure = results?.find((r) => r.error && r.error.code !== CODES.ERRORS.ERR_GROUP_ID_NOT_FOUND);
        if (failure?.error) return reject(fromKafkaError(failure.error, `delete group ${groupId}`));
        resolve();
      });
    });
  }

  createTopic(topic: string, partitions: number, options: { replicationFactor?: number; configs?: Record<string, string> } = {}): Promise<void> {
    return new Promise((resolve, reject) => {
      const spec = { topic, num_partitions: partitions, replication_factor: options.replicationFactor ?? -1, config: options.configs ?? {} };
      this.admin.createTopic(spec, TIMEOUT_MS, (err) => {
        if (err && err.code !== CODES.ERRORS.ERR_TOPIC_ALREADY_EXISTS) return reject(this.fail(err, `create topic ${topic}`));
        resolve();
      });
    });
  }

  async createPartitions(topic: string, total: number): Promise<void> {
    const current = (await this.describeTopic(topic))?.partitions ?? 0;
    if (current >= total) return;
    const refused = await new Promise<LibrdKafkaError | undefined>((resolve) =>
      this.admin.createPartitions(topic, total, TIMEOUT_MS, (err) => resolve(err ?? undefined)),
    );
    // Another task (or an operator) may have grown it meanwhile: enough partitions is what was asked.
    if (refused && ((await this.describeTopic(topic))?.partitions ?? 0) < total) throw this.fail(refused, `add partitions to ${topic}`);
  }

  listTopics(): Promise<string[]> {
    return new Promise((resolve, reject) => this.admin.listTopics({ timeout: TIMEOUT_MS }, this.callback('list topics', resolve, reject)));
  }

  async describeTopic(topic: string, options: { configs?: boolean } = {}): Promise<TopicDescription | undefined> {
    const described = await new Promise<{ partitions: { replicas: unknown[] }[]; error?: LibrdKafkaError }[]>((resolve, reject) =>
      this.admin.describeTopics([topic], { timeout: TIMEOUT_MS }, this.callback(`describe topic ${topic}`, resolve, reject) as never),
    ).catch((err: Error) => {
      if (/unknown topic/i.test(err.message)) return [{ partitions: [], error: { code: CODES.ERRORS.ERR_UNKNOWN_TOPIC_OR_PART } as LibrdKafkaError }];
      throw err;
    });
    const description = described[0];
    if (!description || description.error?.code === CODES.ERRORS.ERR_UNKNOWN_TOPIC_OR_PART) return undefined;
    if (description.error) throw fromKafkaError(description.error, `describe topic ${topic}`);
    return {
      topic,
      partitions: description.partitions.length,
      replicationFactor: description.partitions[0]?.replicas.length ?? 0,
      ...(options.configs ? { configs: await this.topicConfigs(topic) } : {}),
    };
  }

  /** Configs set on the topic itself: what creating it again needs. */
  private topicConfigs(topic: string): Promise<Record<string, string>> {
    const describeConfigs = (this.admin as unknown as { describeConfigs?: DescribeConfigs }).describeConfigs?.bind(this.admin);
    if (!describeConfigs) {
      throw new ColdstoreError(ErrorCodes.KAFKA_ERROR, 'The Kafka client lacks describeConfigs; run `bash scripts/patch-kafka-client.sh`.');
    }
    return new Promise((resolve, reject) => {
      describeConfigs([{ type: 'topic', name: topic }], { timeout: TIMEOUT_MS }, (err, results) => {
        if (err) return reject(this.fail(err, `describe configs of ${topic}`));
        const result = results[0];
        if (result?.error) return reject(fromKafkaError(result.error, `describe configs of ${topic}`));
        const configs: Record<string, string> = {};
        for (const entry of result?.configs ?? []) {
          if (entry.source === 'DYNAMIC_TOPIC_CONFIG' && entry.value !== null) configs[entry.name] = entry.value;
        }
        resolve(configs);
      });
    });
  }

  async listGroups(): Promise<string[]> {
    const result = await new Promise<{ groups: { groupId: string }[] }>((resolve, reject) =>
      this.admin.listGroups({ timeout: TIMEOUT_MS }, this.callback('list consumer groups', resolve, reject)),
    );
    return result.groups.map((g) => g.groupId);
  }

  /** The live members of a group and the client id each joined with. */
  async groupMembers(group: string): Promise<{ memberId: string; clientId: string }[]> {
    const result = await new Promise<{ groups: { error?: LibrdKafkaError; members: { memberId: string; clientId: string }[] }[] }>((resolve, reject) =>
      this.admin.describeGroups([group], { timeout: TIMEOUT_MS }, this.callback(`describe group ${group}`, resolve, reject) as never),
    );
    const described = result.groups[0];
    if (described?.error) throw fromKafkaError(described.error, `describe group ${group}`);
    return (described?.members ?? []).map((m) => ({ memberId: m.memberId, clientId: m.clientId }));
  }

  async groupOffsets(group: string): Promise<PartitionOffset[]> {
    const results = await new Promise<
      { error?: LibrdKafkaError; partitions: { topic: string; partition: number; offset: number; error?: LibrdKafkaError }[] }[]
    >((resolve, reject) =>
      this.admin.listConsumerGroupOffsets([{ groupId: group }], { timeout: TIMEOUT_MS }, this.callback(`offsets of group ${group}`, resolve, reject)),
    );
    const result = results[0];
    if (result?.error) throw fromKafkaError(result.error, `offsets of group ${group}`);
    return (result?.partitions ?? [])
      .filter((p) => !p.error && p.offset >= 0)
      .map((p) => ({ topic: p.topic, partition: p.partition, offset: BigInt(p.offset) }));
  }

  /** Commits as a consumer of the group that never joins it, which Kafka accepts only while the group has no active members. */
  async commitGroupOffsets(group: string, offsets: PartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    const consumer = new KafkaConsumer(
      clientConfig(this.connection, `${this.clientId}-commit`, { 'group.id': group, 'enable.auto.commit': false }) as never,
      {},
    );
    await connectClient(consumer as never, { timeout: TIMEOUT_MS }, 'consumer connect');
    try {
      consumer.commitSync(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: Number(o.offset) })));
    } catch (err) {
      throw new ColdstoreError(
        ErrorCodes.KAFKA_ERROR,
        `Could not commit offsets for consumer group ${group}: ${(err as Error).message}. Stop the group's consumers (Kafka refuses commits from outside an active group) and run the offsets phase again.`,
        { cause: err },
      );
    } finally {
      await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
    }
  }

  async endOffsets(topic: string, partitions: number): Promise<Map<number, bigint>> {
    const listed = await this.listOffsets(
      Array.from({ length: partitions }, (_, partition) => ({ topic, partition })),
      OffsetSpec.LATEST,
      IsolationLevel.READ_UNCOMMITTED,
    );
    return new Map(listed.map((o) => [o.partition, o.offset]));
  }

  async partitionBounds(partitions: readonly { topic: string; partition: number }[]): Promise<PartitionBounds[]> {
    if (partitions.length === 0) return [];
    // The end first: a start read after it can only be higher, never past it.
    const ends = await this.listOffsets(partitions, OffsetSpec.LATEST, IsolationLevel.READ_COMMITTED);
    const starts = new Map(
      (await this.listOffsets(partitions, OffsetSpec.EARLIEST, IsolationLevel.READ_COMMITTED)).map((o) => [`${o.topic}/${o.partition}`, o.offset]),
    );
    return ends.map((end) => {
      const start = starts.get(`${end.topic}/${end.partition}`) ?? end.offset;
      return { topic: end.topic, partition: end.partition, start: start < end.offset ? start : end.offset, end: end.offset };
    });
  }

  committedRecordBetween(tp: { topic: string; partition: number }, from: bigint, to: bigint): Promise<boolean> {
    return committedRecordBetween(this.connection, this.clientId, tp, from, to);
  }

  private async listOffsets(partitions: readonly { topic: string; partition: number }[], spec: unknown, isolationLevel: unknown): Promise<PartitionOffset[]> {
    const specs = partitions.map((p) => ({ topic: p.topic, partition: p.partition, offset: spec }));
    const results = await new Promise<{ topic: string; partition: number; offset: number; error?: LibrdKafkaError }[]>((resolve, reject) =>
      this.admin.listOffsets(specs as never, { timeout: TIMEOUT_MS, isolationLevel } as never, this.callback('list offsets', resolve, reject)),
    );
    return results.map((r) => {
      if (r.error) throw fromKafkaError(r.error, `offsets of ${r.topic}/${r.partition}`);
      return { topic: r.topic, partition: r.partition, offset: BigInt(r.offset) };
    });
  }

  disconnect(): void {
    this.admin.disconnect();
  }
}
