// KafkaProducer.sendAll (runtime/kafka/producer.ts) against the real broker: one promise
// for a batch that resolves with where each record landed, in the order given, across
// partitions and alongside single sends; a record the broker refuses rejects the batch.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaProducer } from '../../runtime/kafka/producer.js';
import { readPartitions } from '../helpers/broker-records.js';
import { bootstrap, createTopic } from '../helpers/kafka.js';
import { uniqueName } from '../helpers/tmp.js';

describe('KafkaProducer.sendAll', () => {
  const topic = uniqueName('sendall');
  const small = uniqueName('sendall-small');
  let producer: KafkaProducer;

  beforeAll(async () => {
    await createTopic(topic, 3);
    await createTopic(small, 1, { 'max.message.bytes': '20000' });
    producer = new KafkaProducer({ bootstrapServers: bootstrap(), extra: {} }, 'sendall-test');
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect();
  });

  it('resolves with each record’s partition and offset, in the order given, beside single sends', async () => {
    const records = Array.from({ length: 3000 }, (_, i) => ({ topic, partition: i % 3, key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`) }));
    const [placements, single] = await Promise.all([
      producer.sendAll(records),
      producer.send({ topic, partition: 0, key: null, value: Buffer.from('single') }),
    ]);
    expect(placements).toHaveLength(3000);
    const stored = await readPartitions([0, 1, 2].map((partition) => ({ topic, partition, count: partition === 0 ? 1001 : 1000 })));
    const at = new Map(stored.map((r) => [`${r.partition}/${r.offset}`, r.value!.toString()]));
    placements.forEach((p, i) => {
      expect(p.partition).toBe(i % 3);
      expect(at.get(`${p.partition}/${p.offset}`)).toBe(`v${i}`);
    });
    expect(at.get(`0/${single.offset}`)).toBe('single');
    expect(await producer.sendAll([])).toEqual([]);
  });

  it('rejects the batch when the broker refuses one of its records, and goes on sending afterwards', async () => {
    const records = [Buffer.alloc(10), Buffer.alloc(100_000), Buffer.alloc(10)].map((value) => ({ topic: small, partition: 0, key: null, value }));
    await expect(producer.sendAll(records)).rejects.toThrow(/produce to .*sendall-small/);
    const [after] = await producer.sendAll([{ topic: small, partition: 0, key: null, value: Buffer.from('after') }]);
    expect(after!.offset).toBeGreaterThanOrEqual(0n);
  });
});
