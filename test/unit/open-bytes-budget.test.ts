// bundle.open.max.bytes: which open bundles close early when a task's partitions together
// hold more than the budget (connectors/backup-sink/open-bytes-budget.ts).
import { describe, expect, it } from 'vitest';
import { overBudget } from '../../connectors/backup-sink/open-bytes-budget.js';
import { newPartitionState, type PartitionState } from '../../connectors/backup-sink/partition-state.js';
import { KeptRecords } from '../../connectors/backup-sink/partition-writer.js';
import type { SinkRecord } from '../../runtime/api/index.js';

const LIMITS = { maxRecords: 1_000_000, maxBytes: 1 << 30, maxAgeMs: 600_000 };

function state(partition: number, bytes: number[], opts: { fenced?: boolean; planned?: boolean } = {}): PartitionState {
  const plan = opts.planned ? [{ start: 1000n, end: 1999n, durable: false }] : [];
  const s = newPartitionState({ topic: 't', partition }, LIMITS, { start: 0n, plan, anchored: true, anchor: undefined }, new Set(), () => new KeptRecords());
  bytes.forEach((size, offset) => {
    const record: SinkRecord = {
      topic: 't',
      partition,
      offset: BigInt(offset),
      timestamp: 0,
      timestampType: 'CREATE_TIME',
      key: null,
      value: Buffer.alloc(size),
      headers: [],
    };
    s.writer.add(record, 0);
  });
  s.fenced = opts.fenced ?? false;
  return s;
}

const partitionsOf = (states: PartitionState[]) => states.map((s) => s.tp.partition);

describe('overBudget', () => {
  it('closes nothing while the open bundles together fit', () => {
    expect(overBudget([state(0, [300, 300]), state(1, [400])], 1000)).toEqual([]);
  });

  it('closes the largest first, only as many as it takes to fit', () => {
    const states = [state(0, [100]), state(1, [500, 200]), state(2, [300]), state(3, [250])];
    expect(partitionsOf(overBudget(states, 1000))).toEqual([1]);
    expect(partitionsOf(overBudget(states, 400))).toEqual([1, 2]);
    expect(partitionsOf(overBudget(states, 300))).toEqual([1, 2, 3]);
  });

  it('leaves fenced partitions and ranges being rebuilt alone, and does not count them', () => {
    const states = [state(0, [900], { fenced: true }), state(1, [1100], { planned: true }), state(2, [300]), state(3, [200])];
    expect(partitionsOf(overBudget(states, 1000))).toEqual([]);
    expect(partitionsOf(overBudget(states, 400))).toEqual([2]);
  });
});
