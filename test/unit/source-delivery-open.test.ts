import { describe, expect, it } from 'vitest';
import type { KafkaCluster, SourceTask } from '../../runtime/api/index.js';
import { TransactionalDelivery, type OffsetsTopic } from '../../runtime/worker/source-delivery.js';
import { sourcePartitionKey } from '../../runtime/worker/source-offsets.js';
import { FakeProducer } from '../helpers/fake-producer.js';
import { MemoryCheckpointStore } from '../helpers/runner-deps.js';
import { waitFor } from '../helpers/wait.js';

const PARTITION = { file: 'in.txt' };
const KEY = sourcePartitionKey(PARTITION);

/** A transactional delivery whose producer's fencing the test lets finish (or fail) when it wants, journaling what happens. */
function opening(fencing: Promise<void>) {
  const journal: string[] = [];
  const store = new MemoryCheckpointStore();
  let producer!: FakeProducer;
  const offsetsTopic: OffsetsTopic = {
    name: 'offsets',
    readOffsets: async (_clientId, after) => {
      journal.push('read started');
      await after;
      journal.push('end taken');
      return { [KEY]: { partition: PARTITION, offset: { position: 7 } } };
    },
  };
  const delivery = new TransactionalDelivery(
    {
      connector: 'c',
      taskId: 0,
      store,
      task: {} as SourceTask,
      onCommitted: async () => undefined,
      createProducer: (options) => {
        producer = new FakeProducer(options);
        producer.initTransactions = async () => {
          journal.push('fencing');
          await fencing;
          journal.push('fenced');
        };
        return producer;
      },
    },
    offsetsTopic,
    { createTopic: async () => undefined } as unknown as KafkaCluster,
  );
  return { delivery, journal, store };
}

describe('TransactionalDelivery.open', () => {
  it('starts the offsets read while fencing but takes its end only after the fence', async () => {
    let fence!: () => void;
    const { delivery, journal, store } = opening(new Promise<void>((resolve) => (fence = resolve)));
    const opened = delivery.open();
    await waitFor('fencing under way', () => journal.includes('fencing'), { intervalMs: 5 });
    expect(journal).toEqual(['read started', 'fencing']);
    fence();
    await opened;
    expect(journal).toEqual(['read started', 'fencing', 'fenced', 'end taken']);
    expect(await store.read('source-offsets/c')).toEqual({ [KEY]: { partition: PARTITION, offset: { position: 7 } } });
  });

  it('fails with the fencing error, and writes no offsets, when fencing fails', async () => {
    const { delivery, journal, store } = opening(Promise.reject(new Error('fenced by a newer incarnation')));
    await expect(delivery.open()).rejects.toThrow('fenced by a newer incarnation');
    expect(journal).not.toContain('end taken');
    expect(store.writes).toEqual([]);
  });
});
