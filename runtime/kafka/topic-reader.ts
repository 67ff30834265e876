import KafkaLib from '@confluentinc/kafka-javascript';
import type { Message } from '@confluentinc/kafka-javascript';
import { START_OF_PARTITION } from '../api/records.js';
import { clientConfig, type KafkaConnection } from './client-config.js';
import { connectClient } from './connect.js';
import { fromKafkaError } from './errors.js';
import { boundPollTime } from './poll-timing.js';

const { KafkaConsumer } = KafkaLib;

/** A consumer outside any group's work (assigned, never committing) that sees committed records only and says where each partition ends. */
function committedReader(connection: KafkaConnection, clientId: string): InstanceType<typeof KafkaConsumer> {
  return new KafkaConsumer(
    clientConfig(connection, clientId, {
      'group.id': clientId,
      'enable.auto.commit': false,
      'enable.partition.eof': true,
      'isolation.level': 'read_committed',
    }) as never,
    { 'auto.offset.reset': 'earliest' },
  );
}

export interface KeyedMessage {
  key: Buffer | null;
  value: Buffer | null;
}

/**
 * Reads a whole topic from its beginning to its current end, without a consumer group,
 * returning only committed records. "The end" is the high watermark when the read
 * starts, not the last stable offset: records committed after a transaction that is
 * still open (another task's, or one a crashed producer left behind until it is fenced
 * or times out) are waited for, not missed.
 */
export async function readTopicToEnd(
  connection: KafkaConnection,
  clientId: string,
  topic: string,
  /** Each partition's high watermark (read_uncommitted end offset), e.g. from KafkaAdmin.endOffsets. */
  ends: Map<number, bigint>,
  timeoutMs = 120_000,
): Promise<KeyedMessage[]> {
  const consumer = committedReader(connection, `${clientId}-reader`);
  try {
    await connectClient(consumer as never, { timeout: 30_000 }, 'reader connect');
    const pending = new Map([...ends].map(([partition, end]) => [partition, Number(end)] as const).filter(([, end]) => end > 0));
    consumer.on('partition.eof', (eof: { partition: number; offset: number }) => {
      const end = pending.get(eof.partition);
      if (end !== undefined && eof.offset >= end) pending.delete(eof.partition);
    });
    // Returns between records too, so the deadline is checked however slowly the topic is read.
    boundPollTime(consumer, 500);
    consumer.assign([...pending.keys()].map((partition) => ({ topic, partition, offset: Number(START_OF_PARTITION) })));
    const messages: KeyedMessage[] = [];
    const deadline = Date.now() + timeoutMs;
    while (pending.size > 0) {
      if (Date.now() > deadline) {
        throw fromKafkaError(new Error(`reading ${topic} to its end took more than ${timeoutMs / 1000} s (a transaction left open?)`), `read ${topic}`);
      }
      const batch = await new Promise<Message[]>((resolve, reject) =>
        consumer.consume(1000, (err, m) => (err ? reject(fromKafkaError(err, `read ${topic}`)) : resolve(m))),
      );
      for (const m of batch) {
        messages.push({ key: m.key === undefined || m.key === null ? null : Buffer.from(m.key), value: m.value ?? null });
        // A record at or past the end also proves the partition was read that far.
        const end = pending.get(m.partition);
        if (end !== undefined && m.offset + 1 >= end) pending.delete(m.partition);
      }
    }
    return messages;
  } finally {
    if (consumer.isConnected()) await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}

/**
 * Whether a read_committed reader finds a record at an offset in [from, to) of one
 * partition: false when the partition holds only transaction markers or aborted records
 * there. `to` must not be past the partition's last stable offset (a cut's end is not).
 */
export async function committedRecordBetween(
  connection: KafkaConnection,
  clientId: string,
  tp: { topic: string; partition: number },
  from: bigint,
  to: bigint,
  timeoutMs = 30_000,
): Promise<boolean> {
  if (from >= to) return false;
  const consumer = committedReader(connection, `${clientId}-probe`);
  const doing = `read ${tp.topic}/${tp.partition} from ${from}`;
  try {
    await connectClient(consumer as never, { timeout: 30_000 }, 'probe connect');
    let endReached: bigint | undefined;
    consumer.on('partition.eof', (eof: { offset: number }) => (endReached = BigInt(eof.offset)));
    boundPollTime(consumer, 500);
    consumer.assign([{ ...tp, offset: Number(from) }]);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (Date.now() > deadline) throw fromKafkaError(new Error(`${doing} took more than ${timeoutMs / 1000} s`), doing);
      const batch = await new Promise<Message[]>((resolve, reject) =>
        consumer.consume(100, (err, m) => (err ? reject(fromKafkaError(err, doing)) : resolve(m))),
      );
      if (batch.length > 0) return BigInt(batch[0]!.offset) < to;
      if (endReached !== undefined && endReached >= to) return false;
    }
  } finally {
    if (consumer.isConnected()) await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}
