import KafkaLib from '@confluentinc/kafka-javascript';
import type { Message } from '@confluentinc/kafka-javascript';
import { describe, expect, it } from 'vitest';
import { unpackRecords } from '../../runtime/kafka/message.js';
import { KafkaProducer, type OutgoingRecord } from '../../runtime/kafka/producer.js';
import type { SinkRecord } from '../../runtime/api/records.js';
import { bootstrap, createTopic } from '../helpers/kafka.js';
import { uniqueName } from '../helpers/tmp.js';

const { KafkaConsumer } = KafkaLib;
type Consumer = InstanceType<typeof KafkaConsumer>;

/** A seeded generator, so a failure names the data that caused it. */
function random(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

function bytesOrNullOrEmpty(next: () => number, max: number): Buffer | null {
  const pick = next();
  if (pick < 0.15) return null;
  if (pick < 0.3) return Buffer.alloc(0);
  return Buffer.from(Array.from({ length: 1 + Math.floor(next() * max) }, () => Math.floor(next() * 256)));
}

const HEADER_NAMES = ['a', 'trace-id', 'ünï-çødé', '', 'a'];

function records(topics: string[], count: number, seed: number): OutgoingRecord[] {
  const next = random(seed);
  return Array.from({ length: count }, (_, i) => ({
    topic: topics[i % topics.length]!,
    partition: i % 2,
    timestamp: 1_000_000 + i,
    key: bytesOrNullOrEmpty(next, 40),
    value: bytesOrNullOrEmpty(next, 3000),
    headers: Array.from({ length: Math.floor(next() * 4) }, () => ({
      key: HEADER_NAMES[Math.floor(next() * HEADER_NAMES.length)]!,
      value: bytesOrNullOrEmpty(next, 20),
    })),
  }));
}

async function consumer(topics: string[]): Promise<Consumer> {
  const c = new KafkaConsumer({ 'bootstrap.servers': bootstrap(), 'group.id': uniqueName('packed'), 'enable.auto.commit': false } as never, {
    'auto.offset.reset': 'earliest',
  });
  await new Promise<void>((resolve, reject) => c.connect({ timeout: 10_000 }, (err) => (err ? reject(err) : resolve())));
  c.setDefaultConsumeTimeout(500);
  c.subscribe(topics);
  return c;
}

async function readAll(count: number, poll: () => Promise<SinkRecord[]>): Promise<SinkRecord[]> {
  const read: SinkRecord[] = [];
  for (let empty = 0; read.length < count && empty < 40;) {
    const batch = await poll();
    read.push(...batch);
    empty = batch.length === 0 ? empty + 1 : 0;
  }
  return read.sort((x, y) => x.topic.localeCompare(y.topic) || x.partition - y.partition || Number(x.offset - y.offset));
}

/** The stock answer (one object per message) in the same shape, header by header. */
function fromMessage(m: Message): SinkRecord {
  const types = ['NOT_AVAILABLE', 'CREATE_TIME', 'LOG_APPEND_TIME'] as const;
  return {
    topic: m.topic,
    partition: m.partition,
    offset: BigInt(m.offset),
    timestamp: m.timestamp ?? -1,
    timestampType: types[(m as Message & { timestampType: number }).timestampType]!,
    key: (m.key as Buffer | null | undefined) ?? null,
    value: m.value ?? null,
    headers: (m.headers ?? []).flatMap((h) => Object.entries(h).map(([key, value]) => ({ key, value: (value as Buffer | null) ?? null }))),
  };
}

describe("the patched client's packed consume", () => {
  it('answers exactly what the per-message consume answers: null apart from empty, headers in order, every topic', async () => {
    const topics = [uniqueName('packed-a'), uniqueName('packed-b'), uniqueName('packed-c')];
    for (const topic of topics) await createTopic(topic, 2);
    const sent = records(topics, 600, 7);
    const producer = new KafkaProducer({ bootstrapServers: bootstrap(), extra: {} }, 'packed-test');
    await producer.connect();
    await Promise.all(sent.map((r) => producer.send(r)));
    await producer.disconnect();

    const stock = await consumer(topics);
    const packed = await consumer(topics);
    try {
      const viaObjects = await readAll(
        sent.length,
        () => new Promise((resolve, reject) => stock.consume(200, (err, ms) => (err ? reject(err) : resolve(ms.map(fromMessage))))),
      );
      const viaPacked = await readAll(
        sent.length,
        () =>
          new Promise((resolve, reject) =>
            packed.consumePacked(200, (err, data, numbers, names) => (err ? reject(err) : resolve(unpackRecords(data, numbers, names)))),
          ),
      );
      expect(viaObjects).toHaveLength(sent.length);
      expect(viaPacked).toEqual(viaObjects);
      // What was produced, not only what the stock path says: nulls, empties and header names survive.
      const key = (r: { topic: string; timestamp: number }) => `${r.topic}@${r.timestamp}`;
      const byKey = new Map(viaPacked.map((r) => [key(r), r]));
      for (const r of sent) {
        const got = byKey.get(key(r as { topic: string; timestamp: number }))!;
        expect({ key: got.key, value: got.value, headers: got.headers }).toEqual({ key: r.key, value: r.value, headers: r.headers });
      }
      expect(sent.some((r) => r.key === null) && sent.some((r) => r.value?.length === 0)).toBe(true);
    } finally {
      await new Promise<void>((resolve) => stock.disconnect(() => resolve()));
      await new Promise<void>((resolve) => packed.disconnect(() => resolve()));
    }
  });
});
