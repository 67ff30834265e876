import KafkaLib from '@confluentinc/kafka-javascript';
import type { Message } from '@confluentinc/kafka-javascript';
import { bootstrap } from './kafka.js';

/** A record as the broker holds it, read by a plain consumer (not coldstore's sink loop). */
export interface BrokerRecord {
  topic: string;
  partition: number;
  offset: bigint;
  timestamp: bigint;
  timestampType: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: { key: string; value: Buffer | null }[];
}

const TYPES = ['NOT_AVAILABLE', 'CREATE_TIME', 'LOG_APPEND_TIME'];

/**
 * Every committed record of these partitions, in offset order: at least `count` per
 * partition (waiting up to a minute for them), and everything up to each partition's
 * end once there (without `count`: as soon as every partition's end is reached).
 */
export async function readPartitions(
  partitions: { topic: string; partition: number; count?: number }[],
  bootstrapServers = bootstrap(),
): Promise<BrokerRecord[]> {
  const consumer = new KafkaLib.KafkaConsumer(
    {
      'bootstrap.servers': bootstrapServers,
      'group.id': `reference-${Date.now()}-${Math.random()}`,
      'enable.auto.commit': false,
      'isolation.level': 'read_committed',
      'enable.partition.eof': true,
    },
    { 'auto.offset.reset': 'earliest' },
  );
  await new Promise<void>((resolve, reject) => consumer.connect({}, (err) => (err ? reject(err) : resolve())));
  const atEnd = new Set<string>();
  consumer.on('partition.eof', (eof: { topic: string; partition: number }) => atEnd.add(`${eof.topic}/${eof.partition}`));
  consumer.assign(partitions.map((p) => ({ topic: p.topic, partition: p.partition, offset: 0 })));
  consumer.setDefaultConsumeTimeout(500);
  const wanted = partitions.reduce((n, p) => n + (p.count ?? 0), 0);
  const out: BrokerRecord[] = [];
  const deadline = Date.now() + 60_000;
  const done = () => out.length >= wanted && partitions.every((p) => atEnd.has(`${p.topic}/${p.partition}`));
  while (!done() && Date.now() < deadline) {
    const batch = await new Promise<Message[]>((resolve, reject) => consumer.consume(1000, (err, m) => (err ? reject(err) : resolve(m))));
    for (const m of batch) {
      out.push({
        topic: m.topic,
        partition: m.partition,
        offset: BigInt(m.offset),
        timestamp: BigInt(m.timestamp ?? -1),
        timestampType: TYPES[(m as Message & { timestampType?: number }).timestampType ?? 0]!,
        key: (m.key as Buffer | null | undefined) ?? null,
        value: m.value ?? null,
        headers: (m.headers ?? []).flatMap((h) => Object.entries(h).map(([key, value]) => ({ key, value: (value as Buffer | null) ?? null }))),
      });
    }
  }
  await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  return out.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition || Number(a.offset - b.offset)));
}
