import type { ConnectorType } from '../api/connector.js';
import { ColdstoreError, ErrorCodes } from '../api/errors.js';
import { parseTpKey, tpKey } from '../api/records.js';
import { KafkaAdmin } from '../kafka/admin.js';
import { KafkaProducer } from '../kafka/producer.js';
import { namespaces } from '../storage/checkpoint-store.js';
import { readConnectorOffsets } from '../worker/source-delivery.js';
import { offsetsTopicFormat, sourcePartitionKey, type StoredSourceOffset } from '../worker/source-offsets.js';
import { EARLIEST } from '../worker/sink-offsets.js';
import type { Worker } from '../worker/worker.js';

/** KIP-875 shapes: `{partition: {...}, offset: {...} | null}`. */
export interface OffsetEntry {
  partition: Record<string, unknown>;
  offset: Record<string, unknown> | null;
}

function invalid(message: string): ColdstoreError {
  return new ColdstoreError(ErrorCodes.OFFSETS_INVALID, `${message}. Expected {"offsets": [{"partition": {...}, "offset": {...} | null}]}.`);
}

/** Reads, alters and resets a connector's offsets in the checkpoint store (the connector must be STOPPED to change them). */
export class ConnectorOffsets {
  constructor(private readonly worker: Worker) {}

  private namespace(name: string, type: ConnectorType): string {
    return type === 'sink' ? namespaces.sinkOffsets(name) : namespaces.sourceOffsets(name);
  }

  async read(name: string, type: ConnectorType): Promise<{ offsets: OffsetEntry[] }> {
    const stored = await this.worker.store.read(this.namespace(name, type));
    const offsets = Object.entries(stored)
      .filter(([, value]) => value !== EARLIEST)
      .map(([key, value]): OffsetEntry => {
        if (type === 'source') return value as StoredSourceOffset;
        const tp = parseTpKey(key);
        return { partition: { kafka_topic: tp.topic, kafka_partition: tp.partition }, offset: { kafka_offset: Number(value) } };
      });
    return { offsets };
  }

  async alter(name: string, type: ConnectorType, body: unknown): Promise<void> {
    const entries = (body as { offsets?: unknown })?.offsets;
    if (!Array.isArray(entries) || entries.length === 0) throw invalid('The request body has no offsets');
    const changes: Record<string, unknown> = {};
    for (const [i, entry] of entries.entries()) {
      const { partition, offset } = (entry ?? {}) as Partial<OffsetEntry>;
      if (!partition || typeof partition !== 'object') throw invalid(`offsets[${i}].partition is missing`);
      if (offset !== null && (offset === undefined || typeof offset !== 'object')) throw invalid(`offsets[${i}].offset must be an object or null`);
      if (type === 'sink') {
        const { kafka_topic: topic, kafka_partition: p } = partition as { kafka_topic?: unknown; kafka_partition?: unknown };
        if (typeof topic !== 'string' || !Number.isInteger(p) || (p as number) < 0) {
          throw invalid(`offsets[${i}].partition needs kafka_topic (string) and kafka_partition (integer ≥ 0)`);
        }
        const next = offset?.['kafka_offset'];
        if (offset !== null && (!Number.isInteger(next) || (next as number) < 0)) throw invalid(`offsets[${i}].offset.kafka_offset must be an integer ≥ 0`);
        changes[tpKey({ topic, partition: p as number })] = offset === null ? EARLIEST : String(next);
      } else {
        changes[sourcePartitionKey(partition as StoredSourceOffset['partition'])] = offset === null ? null : { partition, offset };
      }
    }
    if (type === 'source') await this.mirrorToOffsetsTopic(name, entries as OffsetEntry[]);
    await this.worker.store.write(this.namespace(name, type), changes);
  }

  /**
   * Transactional source tasks take their offsets from the offsets topic when they start,
   * so a change made here goes there too (when the topic exists).
   */
  private async mirrorToOffsetsTopic(name: string, entries: OffsetEntry[]): Promise<void> {
    const topic = this.worker.config['offset.storage.topic'];
    if (entries.length === 0 || !(await this.worker.cluster.describeTopic(topic))) return;
    const producer = new KafkaProducer(this.worker.kafka, `coldstore-admin-${name}`);
    await producer.connect();
    try {
      await Promise.all(
        entries.map((e) =>
          producer.send({
            topic,
            ...offsetsTopicFormat.encode(name, {
              partition: e.partition as StoredSourceOffset['partition'],
              offset: e.offset as StoredSourceOffset['offset'] | null,
            }),
          }),
        ),
      );
    } finally {
      await producer.disconnect();
    }
  }

  /**
   * Forgets every offset and every task's own state, so the connector starts over.
   * A sink's partitions are marked EARLIEST rather than only forgotten: its consumers use
   * static group membership and do not leave the group when they stop, so the group stays
   * non-empty (and cannot be deleted) until their session times out, and a forgotten
   * partition would resume from the group's committed offset. Deleting the group is still
   * tried, so that Kafka tooling stops showing the old offsets when it is possible.
   */
  async reset(name: string, type: ConnectorType): Promise<void> {
    const namespace = this.namespace(name, type);
    if (type === 'sink') {
      const partitions = Object.keys(await this.worker.store.read(namespace));
      await this.worker.store.write(namespace, Object.fromEntries(partitions.map((tp) => [tp, EARLIEST])));
      const admin = new KafkaAdmin(this.worker.kafka, `coldstore-admin-${name}`);
      try {
        await admin.deleteGroup(`connect-${name}`);
      } catch (err) {
        this.worker.log.warn(
          { err, connector: name },
          'consumer group not deleted; the reset offsets apply anyway (the checkpoint store decides where tasks start)',
        );
      } finally {
        admin.disconnect();
      }
    } else {
      const stored = Object.values(await this.worker.store.read(namespace)) as StoredSourceOffset[];
      const topic = this.worker.config['offset.storage.topic'];
      // The topic may hold keys the store lacks (a crash between a commit and its mirroring).
      const inTopic = await readConnectorOffsets(this.worker.kafka, this.worker.cluster, topic, name, `coldstore-admin-${name}`);
      const partitions = new Map(stored.map((e) => [sourcePartitionKey(e.partition), e.partition]));
      for (const [key, entry] of Object.entries(inTopic)) if (entry) partitions.set(key, entry.partition);
      await this.mirrorToOffsetsTopic(
        name,
        [...partitions.values()].map((partition) => ({ partition, offset: null })),
      );
      await this.worker.store.drop(namespace);
    }
    for (const ns of await this.worker.store.list(namespaces.taskStatePrefix(name))) await this.worker.store.drop(ns);
    await this.worker.store.drop(namespaces.connectorState(name));
  }
}
