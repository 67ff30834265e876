import KafkaLib from '@confluentinc/kafka-javascript';
import type { Message } from '@confluentinc/kafka-javascript';
import { clientConfig, type KafkaConnection } from './client-config.js';
import { fromKafkaError } from './errors.js';

const { KafkaConsumer } = KafkaLib;
/** librdkafka's logical offset for "the first offset of the partition". */
const OFFSET_BEGINNING = -2;

export interface KeyedMessage {
  key: Buffer | null;
  value: Buffer | null;
}

/**
 * Reads a whole topic from its beginning to its current end, without a consumer
 * group; with read_committed it stops at the last stable offset, so records of
 * open or aborted transactions are never returned.
 */
export async function readTopicToEnd(connection: KafkaConnection, clientId: string, topic: string, partitions: number): Promise<KeyedMessage[]> {
  const consumer = new KafkaConsumer(
    clientConfig(connection, clientId, {
      'group.id': `${clientId}-reader`,
      'enable.auto.commit': false,
      'enable.partition.eof': true,
      'isolation.level': 'read_committed',
    }) as never,
    { 'auto.offset.reset': 'earliest' },
  );
  await new Promise<void>((resolve, reject) => consumer.connect({ timeout: 30_000 }, (err) => (err ? reject(fromKafkaError(err, 'reader connect')) : resolve())));
  const pending = new Set(Array.from({ length: partitions }, (_, p) => p));
  consumer.on('partition.eof', (eof: { partition: number }) => pending.delete(eof.partition));
  try {
    consumer.assign([...pending].map((partition) => ({ topic, partition, offset: OFFSET_BEGINNING })));
    const messages: KeyedMessage[] = [];
    const deadline = Date.now() + 120_000;
    while (pending.size > 0) {
      if (Date.now() > deadline) throw new Error(`reading ${topic} to its end took more than 2 minutes`);
      const batch = await new Promise<Message[]>((resolve, reject) => consumer.consume(1000, (err, m) => (err ? reject(fromKafkaError(err, `read ${topic}`)) : resolve(m))));
      for (const m of batch) messages.push({ key: m.key === undefined || m.key === null ? null : Buffer.from(m.key), value: m.value ?? null });
    }
    return messages;
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}
