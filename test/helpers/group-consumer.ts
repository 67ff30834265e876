import KafkaLib from '@confluentinc/kafka-javascript';
import type { Message } from '@confluentinc/kafka-javascript';
import { bootstrap } from './kafka.js';

/**
 * An application consumer: joins `group`, reads at least `count` records of `topic`
 * (read_committed) from its committed offsets (earliest when none), commits what it
 * read and leaves. Returns the records read. `brokers`: another cluster than the stack's.
 */
export async function consumeInGroup(group: string, topic: string, count: number, timeoutMs = 60_000, brokers = bootstrap()): Promise<Message[]> {
  const consumer = new KafkaLib.KafkaConsumer(
    { 'bootstrap.servers': brokers, 'group.id': group, 'enable.auto.commit': false, 'isolation.level': 'read_committed' },
    { 'auto.offset.reset': 'earliest' },
  );
  await new Promise<void>((resolve, reject) => consumer.connect({}, (err) => (err ? reject(err) : resolve())));
  consumer.subscribe([topic]);
  consumer.setDefaultConsumeTimeout(500);
  const read: Message[] = [];
  const deadline = Date.now() + timeoutMs;
  try {
    while (read.length < count && Date.now() < deadline) {
      const batch = await new Promise<Message[]>((resolve, reject) =>
        consumer.consume(Math.min(500, count - read.length), (err, m) => (err ? reject(err) : resolve(m))),
      );
      read.push(...batch);
    }
    if (read.length > 0) consumer.commitSync(null as never);
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
  return read;
}
