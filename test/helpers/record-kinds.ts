import type { OutgoingRecord } from '../../runtime/kafka/producer.js';

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
          ? [{ key: 'h', value: null }, { key: 'h', value: Buffer.alloc(0) }, { key: 'z', value: binary }, { key: 'h', value: b('last') }]
          : kind === 7
            ? [{ key: 'only', value: b(String(i)) }]
            : [],
    });
  }
  // One large record (broker default limit is 1 MiB per message).
  records.push({ topic, partition: 0, timestamp: 1_700_000_001_000, key: b('large'), value: Buffer.alloc(900 * 1024, 7) });
  return records;
}
