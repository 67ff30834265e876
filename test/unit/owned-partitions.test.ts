// The sink runner keeps the records of partitions its task owns and tracks how far each
// was handed over, per run of one partition's records rather than per record.
import { describe, expect, it } from 'vitest';
import { OwnedPartitions } from '../../runtime/worker/owned-partitions.js';
import type { SinkRecord } from '../../runtime/api/index.js';

const rec = (topic: string, partition: number, offset: number): SinkRecord => ({
  topic,
  partition,
  offset: BigInt(offset),
  timestamp: 0,
  timestampType: 'CREATE_TIME',
  key: null,
  value: null,
  headers: [],
});

function owning(...tps: [string, number][]): OwnedPartitions {
  const owned = new OwnedPartitions();
  for (const [topic, partition] of tps) owned.add({ topic, partition }, undefined);
  return owned;
}

describe('OwnedPartitions', () => {
  const poll = [rec('a', 0, 5), rec('a', 0, 6), rec('a', 1, 0), rec('b', 0, 9), rec('b', 0, 10), rec('a', 0, 7), rec('a', 1, 1)];

  it('keeps the records of owned partitions, in order, whichever runs are not owned', () => {
    const kept = owning(['a', 0], ['b', 0]).keepOwned(poll);
    expect(kept.map((r) => `${r.topic}/${r.partition}@${r.offset}`)).toEqual(['a/0@5', 'a/0@6', 'b/0@9', 'b/0@10', 'a/0@7']);
    expect(
      owning(['a', 1])
        .keepOwned(poll)
        .map((r) => Number(r.offset)),
    ).toEqual([0, 1]);
    expect(owning().keepOwned(poll)).toEqual([]);
  });

  it('hands back the same array when every record is owned', () => {
    expect(owning(['a', 0], ['a', 1], ['b', 0]).keepOwned(poll)).toBe(poll);
  });

  it('marks each partition consumed past its last record, also when its records come in several runs', () => {
    const owned = owning(['a', 0], ['a', 1], ['b', 0]);
    owned.handed(poll);
    expect(Object.fromEntries(owned.consumed())).toEqual({ 'a/0': 8n, 'a/1': 2n, 'b/0': 11n });
  });
});
