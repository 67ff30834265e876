// GroupSync (connectors/restore-source/follow/group-sync.ts) over a real LocalObjectStore
// holding group snapshots and a recording cluster double: the newest snapshot is
// translated with the sync points and committed only forward, only for groups with no
// active member on the standby, and never for a target re-partitioned by key.
import { beforeEach, describe, expect, it } from 'vitest';
import type { KafkaCluster, PartitionOffset, RecordPlacement, SourceRecord, TopicDescription } from '../../runtime/api/index.js';
import { groupSnapshotKey, type GroupOffsetsSnapshot } from '../../connectors/common/formats/backup-metadata.js';
import { LocalObjectStore } from '../../connectors/common/object-store/local-object-store.js';
import { GroupSync, type FollowedPartition } from '../../connectors/restore-source/follow/group-sync.js';
import { SyncPoints } from '../../connectors/restore-source/follow/sync-points.js';
import { tmpDir } from '../helpers/tmp.js';

const location = { bucket: 'events', prefix: '' };
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const metrics = { add: () => {}, record: () => {}, set: () => {} };

/** Commits and group state as a standby cluster would keep them. */
class StandbyGroups implements Pick<KafkaCluster, 'groupMembers' | 'groupOffsets' | 'commitGroupOffsets' | 'partitionBounds'> {
  readonly offsets = new Map<string, PartitionOffset[]>();
  readonly active = new Set<string>();
  commits = 0;

  async groupMembers(group: string) {
    return this.active.has(group) ? [{ memberId: 'm-1', clientId: 'app' }] : [];
  }
  async groupOffsets(group: string) {
    return this.offsets.get(group) ?? [];
  }
  /** Every standby partition's log starts at 7 (older records deleted by retention). */
  async partitionBounds(partitions: readonly { topic: string; partition: number }[]) {
    return partitions.map((p) => ({ ...p, start: 7n, end: 100n }));
  }
  async commitGroupOffsets(group: string, offsets: PartitionOffset[]) {
    if (offsets.length === 0) return;
    this.commits++;
    const kept = (this.offsets.get(group) ?? []).filter((o) => !offsets.some((n) => n.topic === o.topic && n.partition === o.partition));
    this.offsets.set(group, [...kept, ...offsets]);
  }
}

describe('GroupSync', () => {
  let store: LocalObjectStore;
  let standby: StandbyGroups;
  let points: SyncPoints;
  const followed: FollowedPartition[] = [
    { topic: 'orders', partition: 0, target: { topic: 'orders-standby', partitions: 2, mode: 'preserve' } },
    { topic: 'orders', partition: 1, target: { topic: 'orders-standby', partitions: 2, mode: 'preserve' } },
  ];

  async function snapshot(takenAt: number, groups: GroupOffsetsSnapshot['groups']): Promise<void> {
    const body: GroupOffsetsSnapshot = { format: 'coldstore-group-offsets-v1', takenAt, groups };
    await store.put(location.bucket, groupSnapshotKey(takenAt), Buffer.from(JSON.stringify(body)), {});
  }

  /** Records of orders/p at source offsets from..to-1, landing at target offsets from `target` on. */
  function restore(partition: number, from: number, to: number, target: number): void {
    const sourcePartition = { topic: 'orders', partition };
    const records: SourceRecord[] = [];
    const placements: RecordPlacement[] = [];
    for (let o = from; o < to; o++) {
      records.push({ sourcePartition, sourceOffset: { key: 'k', offset: o, records: 0 }, topic: 'orders-standby', key: null, value: null });
      placements.push({ partition, offset: BigInt(target + o - from) });
    }
    points.delivered(records, placements);
  }

  function sync(wanted = ['app']): GroupSync {
    const cluster = standby as unknown as KafkaCluster & { describeTopic(t: string): Promise<TopicDescription | undefined> };
    return new GroupSync({ wanted, cluster, store, location, points, log: quiet, metrics });
  }

  beforeEach(async () => {
    store = new LocalObjectStore(tmpDir('group-sync'));
    await store.ensureBucket(location.bucket);
    standby = new StandbyGroups();
    points = new SyncPoints([]);
    restore(0, 0, 50, 0);
    // Partition 1 landed after 10 records that were already in the standby topic.
    restore(1, 0, 50, 10);
  });

  it('translates the newest snapshot and commits it on the standby', async () => {
    await snapshot(1_000, { app: [{ topic: 'orders', partition: 0, offset: 5 }] });
    await snapshot(2_000, {
      app: [
        { topic: 'orders', partition: 0, offset: 20 },
        { topic: 'orders', partition: 1, offset: 30 },
      ],
      other: [{ topic: 'orders', partition: 0, offset: 40 }],
    });
    const groupSync = sync();
    await groupSync.sync(followed);
    expect(standby.offsets.get('app')).toEqual([
      { topic: 'orders-standby', partition: 0, offset: 20n },
      { topic: 'orders-standby', partition: 1, offset: 40n },
    ]);
    expect(standby.offsets.has('other')).toBe(false);
    expect(groupSync.status).toMatchObject({ snapshot_taken_at: new Date(2_000).toISOString(), groups: { app: 2 } });
  });

  it('leaves a group with an active member on the standby alone', async () => {
    await snapshot(2_000, { app: [{ topic: 'orders', partition: 0, offset: 20 }] });
    standby.active.add('app');
    const groupSync = sync();
    await groupSync.sync(followed);
    expect(standby.commits).toBe(0);
    expect(groupSync.status.groups).toEqual({ app: 'active on the standby' });
  });

  it('only moves a group forward: a consumer already further on the standby keeps its offset', async () => {
    await snapshot(2_000, {
      app: [
        { topic: 'orders', partition: 0, offset: 20 },
        { topic: 'orders', partition: 1, offset: 5 },
      ],
    });
    standby.offsets.set('app', [
      { topic: 'orders-standby', partition: 0, offset: 45n },
      { topic: 'orders-standby', partition: 1, offset: 3n },
    ]);
    await sync().sync(followed);
    expect(standby.offsets.get('app')).toEqual([
      { topic: 'orders-standby', partition: 0, offset: 45n },
      { topic: 'orders-standby', partition: 1, offset: 15n },
    ]);
  });

  it('does not translate offsets of a target re-partitioned by key', async () => {
    await snapshot(2_000, { app: [{ topic: 'orders', partition: 0, offset: 20 }] });
    const hashed = followed.map((f) => ({ ...f, target: { ...f.target, mode: 'hash' as const } }));
    await sync().sync(hashed);
    expect(standby.commits).toBe(0);
  });

  it('an offset further back than what is known: a group with no standby offset gets the partition start (re-reads, never skips); one with an offset keeps it', async () => {
    await snapshot(2_000, {
      app: [{ topic: 'orders', partition: 0, offset: 20 }],
      other: [{ topic: 'orders', partition: 0, offset: 20 }],
    });
    standby.offsets.set('other', [{ topic: 'orders-standby', partition: 0, offset: 12n }]);
    points = new SyncPoints([]);
    await sync(['app', 'other']).sync(followed);
    expect(standby.offsets.get('app')).toEqual([{ topic: 'orders-standby', partition: 0, offset: 7n }]);
    expect(standby.offsets.get('other')).toEqual([{ topic: 'orders-standby', partition: 0, offset: 12n }]);
  });
});
