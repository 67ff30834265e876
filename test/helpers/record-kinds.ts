import type { OutgoingRecord } from '../../runtime/kafka/producer.js';
import { consumeAll, createTopic, produceRecords, produceTransactions } from './kafka.js';
import { uniqueName } from './tmp.js';
import { waitFor } from './wait.js';

const b = (s: string) => Buffer.from(s);
export const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

/**
 * Every record kind a backup and a restore must keep byte for byte, over two
 * partitions: null and empty keys, values and header values, binary data,
 * duplicate and ordered headers, and one 900 KiB record. Timestamps are
 * 1_700_000_000_000 + i for the i-th record (the large one: + 1000).
 */
export function kindRecords(topic: string): OutgoingRecord[] {
  const records: OutgoingRecord[] = [];
  for (let i = 0; i < 40; i++) {
    const partition = i % 2;
    const kind = i % 8;
    records.push({
      topic,
      partition,
      timestamp: 1_700_000_000_000 + i,
      key: kind === 0 ? null : kind === 1 ? Buffer.alloc(0) : kind === 2 ? binary : b(`key-${i}`),
      value: kind === 3 ? null : kind === 4 ? Buffer.alloc(0) : kind === 5 ? binary : b(`value-${i}-${'x'.repeat(i * 13)}`),
      headers:
        kind === 6
          ? [
              { key: 'h', value: null },
              { key: 'h', value: Buffer.alloc(0) },
              { key: 'z', value: binary },
              { key: 'h', value: b('last') },
            ]
          : kind === 7
            ? [{ key: 'only', value: b(String(i)) }]
            : [],
    });
  }
  // One large record (broker default limit is 1 MiB per message).
  records.push({ topic, partition: 0, timestamp: 1_700_000_001_000, key: b('large'), value: Buffer.alloc(900 * 1024, 7) });
  return records;
}

export type KindTopics = { kinds: string; appendTime: string; compacted: string; txn: string };

export function kindTopicNames(): KindTopics {
  return { kinds: uniqueName('kinds'), appendTime: uniqueName('lat'), compacted: uniqueName('compact'), txn: uniqueName('txn') };
}

/**
 * Creates and fills four topics with everything a backup and a restore must get right:
 * every record kind over two partitions, LOG_APPEND_TIME, a compacted topic with holes
 * in the middle (odd offsets hold unique keys, even ones a key updated again and again),
 * and a transactional topic with an aborted transaction (offsets 3-6 hold no record).
 */
export async function createKindTopics(topics: KindTopics): Promise<void> {
  // Old timestamps: keep time retention from deleting the records mid-test.
  const keep = { 'retention.ms': '-1' };
  await createTopic(topics.kinds, 2, keep);
  await createTopic(topics.appendTime, 1, { 'message.timestamp.type': 'LogAppendTime', ...keep });
  await createTopic(topics.compacted, 1, {
    'cleanup.policy': 'compact',
    'segment.ms': '100',
    'min.cleanable.dirty.ratio': '0.01',
    'delete.retention.ms': '100',
  });
  await createTopic(topics.txn, 1, keep);
  await produceRecords(kindRecords(topics.kinds));
  await produceRecords(Array.from({ length: 10 }, (_, i) => ({ topic: topics.appendTime, partition: 0, timestamp: 5, key: b(`k${i}`), value: b(`v${i}`) })));
  await produceRecords(
    Array.from({ length: 60 }, (_, i) => ({ topic: topics.compacted, partition: 0, key: b(i % 2 === 0 ? 'dup' : `u${i}`), value: b(`v${i}`) })),
  );
  await waitFor(
    'compaction',
    async () => {
      await new Promise((r) => setTimeout(r, 300));
      await produceRecords([{ topic: topics.compacted, partition: 0, key: b('roll'), value: b('roll') }]);
      return consumeAll(topics.compacted, 1000).length < 40;
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  await produceTransactions(topics.txn, 0, [
    { commit: true, values: ['t1', 't2', 't3'] },
    { commit: false, values: ['aborted1', 'aborted2'] },
    { commit: true, values: ['t4'] },
  ]);
}
