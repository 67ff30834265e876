import KafkaLib from '@confluentinc/kafka-javascript';
import { describe, expect, it } from 'vitest';
import { KafkaAdmin } from '../../runtime/kafka/admin.js';
import { readTopicToEnd } from '../../runtime/kafka/topic-reader.js';
import { readConnectorOffsets } from '../../runtime/worker/source-delivery.js';
import { offsetsTopicFormat } from '../../runtime/worker/source-offsets.js';
import { bootstrap, createTopic, produceRecords } from '../helpers/kafka.js';
import { uniqueName } from '../helpers/tmp.js';

const call = (fn: (cb: (err: unknown) => void) => void) => new Promise<void>((resolve, reject) => fn((err) => (err ? reject(err) : resolve())));

describe('readTopicToEnd', () => {
  it('waits out a transaction left open instead of stopping before records committed after it', async () => {
    const topic = uniqueName('offsets-like');
    await createTopic(topic, 1);
    await produceRecords([{ topic, partition: 0, key: Buffer.from('a'), value: Buffer.from('1') }]);
    const open = new KafkaLib.Producer({ 'bootstrap.servers': bootstrap(), 'transactional.id': `test-open-${topic}`, dr_cb: false });
    await call((cb) => open.connect({}, cb));
    await call((cb) => open.initTransactions(10_000, cb));
    await call((cb) => open.beginTransaction(cb));
    open.produce(topic, 0, Buffer.from('never'), Buffer.from('b'), null);
    await call((cb) => open.flush(10_000, cb));
    // Committed after the open transaction started: a read stopping at the last stable offset would miss it.
    await produceRecords([{ topic, partition: 0, key: Buffer.from('a'), value: Buffer.from('2') }]);

    const admin = new KafkaAdmin({ bootstrapServers: bootstrap(), extra: {} }, 'test-reader-admin');
    const ends = await admin.endOffsets(topic, 1);
    admin.disconnect();
    const reading = readTopicToEnd({ bootstrapServers: bootstrap(), extra: {} }, 'test-reader', topic, ends, 30_000);
    let done = false;
    void reading.then(() => (done = true));
    await new Promise((r) => setTimeout(r, 1_500));
    expect(done).toBe(false);
    await call((cb) => open.abortTransaction(10_000, cb));
    await call((cb) => open.disconnect(cb));
    const messages = await reading;
    expect(messages.map((m) => `${m.key}=${m.value}`)).toEqual(['a=1', 'a=2']);
  }, 60_000);

  it('takes the end only once `after` settled, so offsets committed meanwhile (a zombie before its fencing) are read', async () => {
    const topic = uniqueName('offsets-after');
    await createTopic(topic, 1);
    const entry = (position: number) => ({ topic, partition: 0, ...offsetsTopicFormat.encode('c', { partition: { file: 'f' }, offset: { position } }) });
    await produceRecords([entry(1)]);
    const kafka = { bootstrapServers: bootstrap(), extra: {} };
    const admin = new KafkaAdmin(kafka, 'test-reader-after-admin');
    try {
      let release!: () => void;
      const reading = readConnectorOffsets(kafka, admin, topic, 'c', 'test-reader-after', new Promise<void>((resolve) => (release = resolve)));
      await produceRecords([entry(2)]);
      release();
      expect(Object.values(await reading)).toEqual([{ partition: { file: 'f' }, offset: { position: 2 } }]);
    } finally {
      admin.disconnect();
    }
  }, 60_000);

  it('fails with the error of ends that could not be taken', async () => {
    const reading = readTopicToEnd({ bootstrapServers: bootstrap(), extra: {} }, 'test-reader-no-ends', 'any', Promise.reject(new Error('no ends')));
    await expect(reading).rejects.toThrow('no ends');
  }, 60_000);
});
