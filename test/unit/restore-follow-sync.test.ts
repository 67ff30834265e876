// Follow mode's pieces that need no servers: which task follows a partition
// (follow-scope.ts followerOf) and how a backed-up group offset is translated onto the
// standby (sync-points.ts), including after a restart that kept only the persisted point.
import { describe, expect, it } from 'vitest';
import type { RecordPlacement, SourceRecord } from '../../runtime/api/index.js';
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
  it('translates a group offset exactly at a sampled record, else to one past the sampled record before it (never later)', () => {
    const points = new SyncPoints([]);
    // Source offsets 0..249 with a hole at 100..104 (compacted), landing at target 1000..1244.
    const sources = Array.from({ length: 250 }, (_, i) => i).filter((o) => o < 100 || o > 104);
    const { records, placements } = run(sources, 1000);
    const persisted = points.delivered(records, placements);
    expect(persisted).toEqual([{ partition: { kind: 'sync', topic: 'orders', partition: 0 }, offset: { source: 249, target: 1244 } }]);
    const targetOf = (source: number) => 1000 + sources.indexOf(source);
    for (const group of [0, 1, 50, 99, 100, 103, 105, 150, 200, 249, 250, 400]) {
      const translated = points.translate('orders/0', BigInt(group));
      expect(translated).toBeDefined();
      // Never skips: the first record the group had not read is at or after the translated offset.
      const firstUnread = sources.find((s) => s >= group);
      if (firstUnread !== undefined) expect(translated!).toBeLessThanOrEqual(BigInt(targetOf(firstUnread)));
      else expect(translated).toBe(1245n);
      // Repeats fewer than 100 records.
      const repeated = sources.filter((s) => s < group && BigInt(targetOf(s)) >= translated!).length;
      expect(repeated).toBeLessThan(100);
    }
    expect(points.translate('orders/0', 0n)).toBe(1000n);
    expect(points.translate('orders/1', 10n)).toBeUndefined();
  });

  it('after a restart knows only the persisted point: earlier offsets are left alone, later ones translate', () => {
    const before = new SyncPoints([]);
    const persisted = before.delivered(run([10, 11, 12], 500).records, run([10, 11, 12], 500).placements);
    const after = new SyncPoints(persisted);
    expect(after.translate('orders/0', 11n)).toBeUndefined();
    expect(after.translate('orders/0', 12n)).toBe(502n);
    expect(after.translate('orders/0', 13n)).toBe(503n);
    const next = run([13, 14], 503);
    after.delivered(next.records, next.placements);
    expect(after.translate('orders/0', 14n)).toBe(504n);
  });
});
