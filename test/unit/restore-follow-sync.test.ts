// Follow mode's pieces that need no servers: which task follows a partition
// (follow-scope.ts followerOf) and how a backed-up group offset is translated onto the
// standby (sync-points.ts), including after a restart that kept only the persisted point.
import { describe, expect, it } from 'vitest';
import type { RecordPlacement, SourceOffsetEntry, SourceRecord } from '../../runtime/api/index.js';
import { followerOf } from '../../connectors/restore-source/follow/follow-scope.js';
import { SyncPoints } from '../../connectors/restore-source/follow/sync-points.js';

const partitionOf = { topic: 'orders', partition: 0 };

/** Records of orders/0 at these source offsets, placed from `firstTarget` on, one after another. */
function run(sourceOffsets: number[], firstTarget: number): { records: SourceRecord[]; placements: RecordPlacement[] } {
  return {
    records: sourceOffsets.map((offset) => ({
      sourcePartition: partitionOf,
      sourceOffset: { key: 'k', offset, records: 0 },
      topic: 'standby',
      value: null,
      key: null,
    })),
    placements: sourceOffsets.map((_, i) => ({ partition: 0, offset: BigInt(firstTarget + i) })),
  };
}

describe('followerOf', () => {
  it('gives each partition exactly one follower, spreads a topic over the tasks, and does not move when partitions are added', () => {
    const owners = Array.from({ length: 12 }, (_, p) => followerOf('orders', p, 3));
    expect(owners.every((t) => t >= 0 && t < 3)).toBe(true);
    expect(new Set(owners).size).toBe(3);
    expect([0, 1, 2].map((t) => owners.filter((o) => o === t).length)).toEqual([4, 4, 4]);
    expect(Array.from({ length: 6 }, (_, p) => followerOf('orders', p, 3))).toEqual(owners.slice(0, 6));
  });
});

describe('SyncPoints', () => {
  it('translates a group offset to where the first record it had not read landed, across holes, exactly', () => {
    const points = new SyncPoints([]);
    // Source offsets 0..249 with a hole at 100..104 (compacted), landing at target 1000..; the second
    // delivery (one transaction) starts after a commit marker at 1150.
    const sources = Array.from({ length: 250 }, (_, i) => i).filter((o) => o < 100 || o > 104);
    const first = run(sources.slice(0, 150), 1000);
    const second = run(sources.slice(150), 1151);
    points.delivered(first.records, first.placements);
    const persisted = points.delivered(second.records, second.placements);
    expect(persisted).toEqual([
      { partition: { kind: 'sync', topic: 'orders', partition: 0, slot: 2 }, offset: { source: 155, target: 1151, count: 95, seq: 2 } },
    ]);
    const targetOf = (source: number) => {
      const i = sources.indexOf(source);
      return i < 150 ? 1000 + i : 1151 + i - 150;
    };
    for (const group of [0, 1, 50, 99, 100, 103, 105, 150, 154, 155, 200, 249]) {
      const firstUnread = sources.find((s) => s >= group)!;
      expect(points.translate('orders/0', BigInt(group)), `group at ${group}`).toBe(BigInt(targetOf(firstUnread)));
    }
    // A group past everything restored resumes after the last record.
    expect(points.translate('orders/0', 250n)).toBe(1246n);
    expect(points.translate('orders/0', 400n)).toBe(1246n);
    expect(points.translate('orders/1', 10n)).toBeUndefined();
  });

  it('after a restart knows the segments persisted with the offsets, and goes on from them', () => {
    const before = new SyncPoints([]);
    const first = run([10, 11, 12], 500);
    const second = run([20, 21], 504);
    const persisted = [...before.delivered(first.records, first.placements), ...before.delivered(second.records, second.placements)];
    const after = new SyncPoints(persisted);
    expect(after.translate('orders/0', 9n)).toBeUndefined();
    expect(after.translate('orders/0', 11n)).toBe(501n);
    // In the hole: the offset after the last record before it (here a transaction marker; the consumer reads on from 504).
    expect(after.translate('orders/0', 15n)).toBe(503n);
    expect(after.translate('orders/0', 22n)).toBe(506n);
    const next = run([22, 23], 506);
    expect(after.delivered(next.records, next.placements)).toEqual([
      { partition: { kind: 'sync', topic: 'orders', partition: 0, slot: 1 }, offset: { source: 20, target: 504, count: 4, seq: 1 } },
    ]);
    expect(after.translate('orders/0', 23n)).toBe(507n);
  });

  it("persists a partition's newest segments each under its own slot, so the oldest give way", () => {
    const points = new SyncPoints([]);
    const persisted = new Map<string, SourceOffsetEntry>();
    // 70 one-record deliveries, each after a hole: 70 segments, slots 0..63 then 0..5 again.
    for (let i = 0; i < 70; i++) {
      const { records, placements } = run([i * 10], 1000 + i * 2);
      for (const e of points.delivered(records, placements)) persisted.set(JSON.stringify(e.partition), e);
    }
    expect(persisted.size).toBe(64);
    const restarted = new SyncPoints([...persisted.values()]);
    expect(restarted.translate('orders/0', 55n)).toBeUndefined();
    expect(restarted.translate('orders/0', 60n)).toBe(1012n);
    expect(restarted.translate('orders/0', 695n)).toBe(1139n);
  });
});
