import KafkaLib from '@confluentinc/kafka-javascript';
import type { Message } from '@confluentinc/kafka-javascript';
import { START_OF_PARTITION } from '../api/records.js';
import { clientConfig, type KafkaConnection } from './client-config.js';
import { connectClient } from './connect.js';
import { fromKafkaError } from './errors.js';
import { boundPollTime } from './poll-timing.js';

const { KafkaConsumer } = KafkaLib;

/**
 * How long these readers wait for news: the broker holding a fetch that finds nothing new,
 * and one consume call. Both readers stop on a partition's end-of-partition event, which
 * librdkafka raises only on a fetch made *at* the end (the fetch that brings the last
 * records does not), and the binding's consume does not return on that event, only when
 * its timeout runs out. With the defaults (500 ms each) a read of a short topic took about
 * 1 s after its records had arrived (a transactional task's start, issue 15). Short waits
 * cost a fetch and a poll every 20 ms while a transaction left open is waited out: nothing
 * for a reader that lives a fraction of a second.
 */
const END_WAIT_MS = 20;

/** A consumer outside any group's work (assigned, never committing) that sees committed records only and says where each partition ends. */
function committedReader(connection: KafkaConnection, clientId: string): InstanceType<typeof KafkaConsumer> {
  const consumer = new KafkaConsumer(
    clientConfig(connection, clientId, {
      'group.id': clientId,
      'enable.auto.commit': false,
      'enable.partition.eof': true,
      'isolation.level': 'read_committed',
      'fetch.wait.max.ms': END_WAIT_MS,
    }) as never,
    { 'auto.offset.reset': 'earliest' },
  );
  // Returns between records too, so a deadline is checked however slowly the topic is read.
  boundPollTime(consumer, END_WAIT_MS);
  return consumer;
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
 *
 * `ends` may still be pending: the reader connects meanwhile and reads nothing before
 * they are known, so a caller that must take them only after something else (a
 * transactional task fencing its previous incarnation) loses no time connecting.
 */
export async function readTopicToEnd(
  connection: KafkaConnection,
  clientId: string,
  topic: string,
  /** Each partition's high watermark (read_uncommitted end offset), e.g. from KafkaAdmin.endOffsets. */
  ends: Map<number, bigint> | Promise<Map<number, bigint>>,
  timeoutMs = 120_000,
): Promise<KeyedMessage[]> {
  const made: { consumer?: InstanceType<typeof KafkaConsumer> } = {};
  try {
    // Both settled before going on: a connect still under way would escape the disconnect below, a failed `ends` go unhandled.
    const [connected, taken] = await Promise.allSettled([
      (async () => {
        const consumer = (made.consumer = committedReader(connection, `${clientId}-reader`));
        await connectClient(consumer as never, { timeout: 30_000 }, 'reader connect');
        return consumer;
      })(),
      ends,
    ]);
    if (taken.status === 'rejected') throw taken.reason;
    if (connected.status === 'rejected') throw connected.reason;
    const consumer = connected.value;
    // An empty partition (nothing ever written) has nothing to wait for.
    const pending = new Map([...taken.value].map(([partition, end]) => [partition, Number(end)] as const).filter(([, end]) => end > 0));
    consumer.on('partition.eof', (eof: { partition: number; offset: number }) => {
      const end = pending.get(eof.partition);
      if (end !== undefined && eof.offset >= end) pending.delete(eof.partition);
    });
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
    const consumer = made.consumer;
    if (consumer?.isConnected()) await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
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
