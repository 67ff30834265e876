// RestoreSource consumer-group offsets (connectors/restore-source/group-offsets.ts):
// which groups are chosen, where the first restored record at or after each backed-up
// group offset landed (PlacementTracker), and the translated commits.
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KafkaCluster, PartitionOffset, RecordPlacement, SourceOffsetEntry, SourceRecord, TaskLogger, TopicDescription } from '../../runtime/api/index.js';
import {
  chosenGroups,
  commitTranslatedOffsets,
  loadGroupSnapshot,
  plannedGroups,
  placementsFrom,
  PlacementTracker,
} from '../../connectors/restore-source/group-offsets.js';
import type { TopicTarget } from '../../connectors/restore-source/targets.js';
import { groupSnapshotKey, type GroupOffsetsSnapshot } from '../../connectors/common/formats/backup-metadata.js';
import { kafkaBundleKey } from '../../connectors/layouts/kafka-v1/bundle-keys.js';
import { LocalObjectStore } from '../../connectors/common/object-store/local-object-store.js';
import { tmpDir } from '../helpers/tmp.js';

type Groups = Map<string, Map<string, bigint>>;
type Targets = Map<string, { sourcePartitions: number; target: TopicTarget }>;

/** `{ g: { 'topic/0': 5 } }` → the Map chosenGroups returns. */
function groupsOf(spec: Record<string, Record<string, number>>): Groups {
  return new Map(Object.entries(spec).map(([g, offsets]) => [g, new Map(Object.entries(offsets).map(([tp, o]) => [tp, BigInt(o)]))]));
}

const silentLog: TaskLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** One restored record of source `topic/partition` at `offset`, produced to `target` partition `q`. */
function restored(topic: string, partition: number, offset: number, target: string, q: number): SourceRecord {
  return {
    sourcePartition: { topic, partition },
    sourceOffset: { key: kafkaBundleKey(topic, partition, 0n, 99n), offset },
    topic: target,
    partition: q,
    key: Buffer.from(`k${offset}`),
    value: Buffer.from(`v${offset}`),
  };
}

/** The placement entry the tracker emits. */
function placement(topic: string, partition: number, target: string, q: number, at: number, offset: number): SourceOffsetEntry {
  return { partition: { kind: 'placement', topic, partition, target, target_partition: q, at }, offset: { offset } };
}

/** A stable order for comparing entry lists. */
const sortKey = (e: SourceOffsetEntry) =>
  JSON.stringify([e.partition['topic'], e.partition['partition'], e.partition['target_partition'], e.partition['at'], e.offset['offset']]);
const sorted = (entries: SourceOffsetEntry[]) => [...entries].sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));

/** Delivers records with explicit placements, like the runtime after Kafka acknowledged them. */
function deliver(tracker: PlacementTracker, batch: [SourceRecord, RecordPlacement][]): SourceOffsetEntry[] {
  return tracker.delivered(
    batch.map(([r]) => r),
    batch.map(([, p]) => p),
  );
}

// ---------------------------------------------------------------------------
// Preserve mode: orders (2 partitions) → orders-r (2 partitions).
//   p0 holds offsets 0..9, produced to orders-r/0 at 1000 + offset.
//   p1 holds offsets 5, 7, 9 (holes), produced to orders-r/1 at 2000, 2001, 2002.
// ---------------------------------------------------------------------------
const PRESERVE_TARGETS: Targets = new Map([['orders', { sourcePartitions: 2, target: { topic: 'orders-r', partitions: 2, mode: 'preserve' } }]]);
const PRESERVE_GROUPS = (): Groups =>
  groupsOf({
    gA: { 'orders/0': 3, 'orders/1': 6 }, // 6 is in the hole between 5 and 7
    gB: { 'orders/0': 100, 'orders/1': 2 }, // 100: past everything restored; 2: before the first record of p1
    gC: { 'other/0': 5 }, // reads no restored topic
    gD: { 'orders/0': 3 }, // same offset as gA: one placement serves both
  });

const p0 = (offset: number): [SourceRecord, RecordPlacement] => [restored('orders', 0, offset, 'orders-r', 0), { partition: 0, offset: BigInt(1000 + offset) }];
const p1 = (offset: number, at: number): [SourceRecord, RecordPlacement] => [
  restored('orders', 1, offset, 'orders-r', 1),
  { partition: 1, offset: BigInt(at) },
];

const PRESERVE_BATCHES: [SourceRecord, RecordPlacement][][] = [
  [p0(0), p0(1), p1(5, 2000), p0(2)],
  [p0(3), p0(4), p1(7, 2001), p0(5)],
  [p0(6), p0(7), p0(8), p1(9, 2002), p0(9)],
];
const PRESERVE_EXPECTED: SourceOffsetEntry[][] = [
  [placement('orders', 1, 'orders-r', 1, 2, 2000)],
  [placement('orders', 0, 'orders-r', 0, 3, 1003), placement('orders', 1, 'orders-r', 1, 6, 2001)],
  [],
];

// ---------------------------------------------------------------------------
// Hash mode: events (2 partitions) → events-h (3 partitions). Placements are explicit
// (the tracker takes them from Kafka's acknowledgements, it does not hash).
//   batch A: p0 0→q0@0, 1→q1@0, 2→q2@0, 3→q0@1
//   batch B: p1 0→q2@1, 1→q2@2, 2→q0@2, 3→q1@1
//   batch C: p0 4→q1@2, 5→q2@3, 6→q0@3, 7→q1@3
// ---------------------------------------------------------------------------
const HASH_TARGETS: Targets = new Map([['events', { sourcePartitions: 2, target: { topic: 'events-h', partitions: 3, mode: 'hash' } }]]);
const HASH_GROUPS = (): Groups =>
  groupsOf({
    h1: { 'events/0': 4 }, // no offset on events/1: it has read nothing there (0)
    h3: { 'events/1': 2 }, // no offset on events/0 (0)
    h4: { 'events/0': 7, 'events/1': 3 },
    h5: { 'unrelated/0': 1 }, // reads no restored topic: wants nothing
  });
const ev = (partition: number, offset: number, q: number, at: number): [SourceRecord, RecordPlacement] => [
  restored('events', partition, offset, 'events-h', q),
  { partition: q, offset: BigInt(at) },
];
const HASH_BATCHES: [SourceRecord, RecordPlacement][][] = [
  [ev(0, 0, 0, 0), ev(0, 1, 1, 0), ev(0, 2, 2, 0), ev(0, 3, 0, 1)],
  [ev(1, 0, 2, 1), ev(1, 1, 2, 2), ev(1, 2, 0, 2), ev(1, 3, 1, 1)],
  [ev(0, 4, 1, 2), ev(0, 5, 2, 3), ev(0, 6, 0, 3), ev(0, 7, 1, 3)],
];
const hp = (partition: number, q: number, at: number, offset: number) => placement('events', partition, 'events-h', q, at, offset);
// Wanted: p0 [0 (h3), 4 (h1), 7 (h4)], p1 [0 (h1), 2 (h3), 3 (h4)].
const HASH_EXPECTED: SourceOffsetEntry[][] = [
  [hp(0, 0, 0, 0), hp(0, 1, 0, 0), hp(0, 2, 0, 0)],
  [hp(1, 2, 0, 1), hp(1, 0, 0, 2), hp(1, 0, 2, 2), hp(1, 1, 0, 1), hp(1, 1, 2, 1), hp(1, 1, 3, 1)],
  [hp(0, 1, 4, 2), hp(0, 2, 4, 3), hp(0, 0, 4, 3), hp(0, 1, 7, 3)],
];

describe('chosenGroups', () => {
  const snapshot: GroupOffsetsSnapshot = {
    format: 'coldstore-group-offsets-v1',
    takenAt: 1_000,
    groups: {
      alpha: [
        { topic: 'orders', partition: 0, offset: 12 },
        { topic: 'orders', partition: 1, offset: 0 },
      ],
      beta: [{ topic: 'payments', partition: 3, offset: 9_000_000_000 }],
      gamma: [],
    },
  };

  it('keeps the named groups, with offsets keyed by topic/partition as bigints', () => {
    const chosen = chosenGroups(snapshot, ['alpha', 'gamma', 'not-in-snapshot']);
    expect([...chosen.keys()].sort()).toEqual(['alpha', 'gamma']);
    expect(chosen.get('alpha')).toEqual(
      new Map([
        ['orders/0', 12n],
        ['orders/1', 0n],
      ]),
    );
    expect(chosen.get('gamma')?.size).toBe(0);
  });

  it("takes every group for '*'", () => {
    const chosen = chosenGroups(snapshot, ['*']);
    expect([...chosen.keys()].sort()).toEqual(['alpha', 'beta', 'gamma']);
    expect(chosen.get('beta')?.get('payments/3')).toBe(9_000_000_000n);
  });

  it('chooses nothing without names or without a snapshot', () => {
    expect(chosenGroups(snapshot, []).size).toBe(0);
    expect(chosenGroups(undefined, ['*']).size).toBe(0);
    expect(chosenGroups(undefined, ['alpha']).size).toBe(0);
  });
});

describe('PlacementTracker: preserve mode', () => {
  it('places each wanted group offset exactly once, at the first record at or after it (holes included)', () => {
    const tracker = new PlacementTracker(PRESERVE_GROUPS(), PRESERVE_TARGETS, []);
    expect(tracker.active).toBe(true);
    const got = PRESERVE_BATCHES.map((batch) => deliver(tracker, batch));
    expect(got.map(sorted)).toEqual(PRESERVE_EXPECTED.map(sorted));
    // Nothing more once everything is placed, even if records come again.
    expect(deliver(tracker, PRESERVE_BATCHES.flat())).toEqual([]);
  });

  it('gives the same placements record by record as in batches', () => {
    const tracker = new PlacementTracker(PRESERVE_GROUPS(), PRESERVE_TARGETS, []);
    const all = PRESERVE_BATCHES.flat().flatMap((pair) => deliver(tracker, [pair]));
    expect(sorted(all)).toEqual(sorted(PRESERVE_EXPECTED.flat()));
  });

  it('a group without an offset on a partition wants nothing there in preserve mode', () => {
    const tracker = new PlacementTracker(groupsOf({ g: { 'orders/0': 1 } }), PRESERVE_TARGETS, []);
    expect(deliver(tracker, [p1(5, 2000), p1(7, 2001)])).toEqual([]);
    expect(deliver(tracker, [p0(0), p0(1), p0(2)])).toEqual([placement('orders', 0, 'orders-r', 0, 1, 1001)]);
  });

  it('is inactive when no chosen group reads a restored topic', () => {
    const tracker = new PlacementTracker(groupsOf({ g: { 'other/0': 1 } }), PRESERVE_TARGETS, []);
    expect(tracker.active).toBe(false);
    expect(deliver(tracker, PRESERVE_BATCHES.flat())).toEqual([]);
    expect(new PlacementTracker(new Map(), PRESERVE_TARGETS, []).active).toBe(false);
  });

  it('does not treat a topic whose name only starts like a restored one as read', () => {
    // "orders-archive/0" is not "orders/<n>".
    const tracker = new PlacementTracker(groupsOf({ g: { 'orders-archive/0': 1, 'orders/x': 2 } }), PRESERVE_TARGETS, []);
    expect(tracker.active).toBe(false);
  });

  it('resuming with persisted placements does not emit them again', () => {
    const first = new PlacementTracker(PRESERVE_GROUPS(), PRESERVE_TARGETS, []);
    const persisted = deliver(first, PRESERVE_BATCHES[0]!);
    expect(persisted).toEqual(PRESERVE_EXPECTED[0]);
    // The stored offsets also hold ordinary progress entries, which placementsFrom ignores.
    const stored: SourceOffsetEntry[] = [
      { partition: { topic: 'orders', partition: 0 }, offset: { key: kafkaBundleKey('orders', 0, 0n, 99n), offset: 2 } },
      ...persisted,
    ];
    const resumed = new PlacementTracker(PRESERVE_GROUPS(), PRESERVE_TARGETS, placementsFrom(stored));
    // Batch 0 delivered again (at-least-once) must not place orders/1@2 a second time.
    expect(deliver(resumed, PRESERVE_BATCHES[0]!)).toEqual([]);
    expect(sorted(deliver(resumed, PRESERVE_BATCHES[1]!))).toEqual(sorted(PRESERVE_EXPECTED[1]!));
    expect(deliver(resumed, PRESERVE_BATCHES[2]!)).toEqual([]);
  });

  it('resuming after everything was placed emits nothing at all', () => {
    const first = new PlacementTracker(PRESERVE_GROUPS(), PRESERVE_TARGETS, []);
    const all = PRESERVE_BATCHES.flatMap((batch) => deliver(first, batch));
    const resumed = new PlacementTracker(PRESERVE_GROUPS(), PRESERVE_TARGETS, placementsFrom(all));
    for (const batch of PRESERVE_BATCHES) expect(deliver(resumed, batch)).toEqual([]);
  });
});

describe('placementsFrom', () => {
  it('reads back what the tracker emitted, ignoring other entries', () => {
    const entries = [
      placement('orders', 1, 'orders-r', 1, 6, 2001),
      { partition: { topic: 'orders', partition: 1 }, offset: { key: 'k', offset: 9 } },
      placement('events', 0, 'events-h', 2, 0, 7),
    ];
    expect(placementsFrom(entries)).toEqual([
      { source: 'orders', partition: 1, target: 'orders-r', targetPartition: 1, at: 6n, offset: 2001n },
      { source: 'events', partition: 0, target: 'events-h', targetPartition: 2, at: 0n, offset: 7n },
    ]);
  });
});

describe('PlacementTracker: hash mode', () => {
  it('tracks each target partition separately; a group without an offset on a partition counts as 0 there', () => {
    const tracker = new PlacementTracker(HASH_GROUPS(), HASH_TARGETS, []);
    const got = HASH_BATCHES.map((batch) => deliver(tracker, batch));
    expect(got.map(sorted)).toEqual(HASH_EXPECTED.map(sorted));
    // Every (source partition, target partition, at) appears once.
    const ids = got.flat().map((e) => `${e.partition['partition']}>${e.partition['target_partition']}@${e.partition['at']}`);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('resumes per target partition', () => {
    // Persisted: only p0's placement of 0 in q0 (record 0, delivered before a crash).
    const existing = placementsFrom([hp(0, 0, 0, 0)]);
    const tracker = new PlacementTracker(HASH_GROUPS(), HASH_TARGETS, existing);
    const got = HASH_BATCHES.flatMap((batch) => deliver(tracker, batch));
    const expected = HASH_EXPECTED.flat().filter((e) => sortKey(e) !== sortKey(hp(0, 0, 0, 0)));
    expect(sorted(got)).toEqual(sorted(expected));
  });
});

class FakeCluster implements KafkaCluster {
  async createPartitions(): Promise<void> {}
  async groupMembers(): Promise<{ memberId: string; clientId: string }[]> {
    return [];
  }
  readonly commits: { group: string; offsets: PartitionOffset[] }[] = [];
  readonly endOffsetCalls: string[] = [];

  constructor(
    private readonly ends: Record<string, Record<number, bigint>>,
    private readonly failing: ReadonlySet<string> = new Set(),
  ) {}

  async listTopics(): Promise<string[]> {
    throw new Error('not used');
  }
  async describeTopic(_topic: string): Promise<TopicDescription | undefined> {
    throw new Error('not used');
  }
  async createTopic(_topic: string, _partitions: number): Promise<void> {
    throw new Error('not used');
  }
  async listGroups(): Promise<string[]> {
    throw new Error('not used');
  }
  async groupOffsets(_group: string): Promise<PartitionOffset[]> {
    throw new Error('not used');
  }
  async commitGroupOffsets(group: string, offsets: PartitionOffset[]): Promise<void> {
    if (this.failing.has(group)) throw new Error(`the group ${group} has active members`);
    this.commits.push({ group, offsets: [...offsets] });
  }
  async partitionBounds(): Promise<never> {
    throw new Error('not used by the restore');
  }
  async committedRecordBetween(): Promise<never> {
    throw new Error('not used by the restore');
  }
  async endOffsets(topic: string, partitions: number): Promise<Map<number, bigint>> {
    this.endOffsetCalls.push(topic);
    const ends = this.ends[topic];
    if (!ends) throw new Error(`no end offsets for ${topic}`);
    const map = new Map<number, bigint>();
    for (let q = 0; q < partitions; q++) map.set(q, ends[q]!);
    return map;
  }

  committed(group: string): string[] | undefined {
    const calls = this.commits.filter((c) => c.group === group);
    if (calls.length === 0) return undefined;
    expect(calls, `${group} committed once`).toHaveLength(1);
    return calls[0]!.offsets.map((o) => `${o.topic}/${o.partition}@${o.offset}`).sort();
  }
}

describe('commitTranslatedOffsets', () => {
  const preservePlacements = () => {
    const tracker = new PlacementTracker(PRESERVE_GROUPS(), PRESERVE_TARGETS, []);
    return placementsFrom(PRESERVE_BATCHES.flatMap((batch) => deliver(tracker, batch)));
  };

  it('preserve: commits the placed offset, and the partition end where nothing at or after the group offset was restored', async () => {
    const cluster = new FakeCluster({ 'orders-r': { 0: 1010n, 1: 2003n } });
    const result = await commitTranslatedOffsets({
      cluster,
      groups: PRESERVE_GROUPS(),
      targets: PRESERVE_TARGETS,
      placements: preservePlacements(),
      log: silentLog,
    });
    expect(cluster.committed('gA')).toEqual(['orders-r/0@1003', 'orders-r/1@2001']);
    expect(cluster.committed('gB')).toEqual(['orders-r/0@1010', 'orders-r/1@2000']);
    expect(cluster.committed('gD')).toEqual(['orders-r/0@1003']);
    // gC reads no restored topic: nothing of orders-r is committed for it.
    expect(cluster.committed('gC') ?? []).toEqual([]);
    expect(result).toMatchObject({ gA: 2, gB: 2, gD: 1 });
    // Offsets are bigints, as the cluster interface says.
    expect(cluster.commits.flatMap((c) => c.offsets).every((o) => typeof o.offset === 'bigint')).toBe(true);
  });

  it('preserve: without any placement (nothing restored after the offsets) commits the ends', async () => {
    const cluster = new FakeCluster({ 'orders-r': { 0: 10n, 1: 3n } });
    await commitTranslatedOffsets({
      cluster,
      groups: groupsOf({ gA: { 'orders/0': 3, 'orders/1': 6 } }),
      targets: PRESERVE_TARGETS,
      placements: [],
      log: silentLog,
    });
    expect(cluster.committed('gA')).toEqual(['orders-r/0@10', 'orders-r/1@3']);
  });

  it('hash: per target partition, the minimum over the source partitions, else the end', async () => {
    const tracker = new PlacementTracker(HASH_GROUPS(), HASH_TARGETS, []);
    const placements = placementsFrom(HASH_BATCHES.flatMap((batch) => deliver(tracker, batch)));
    const cluster = new FakeCluster({ 'events-h': { 0: 50n, 1: 60n, 2: 70n } });
    const result = await commitTranslatedOffsets({ cluster, groups: HASH_GROUPS(), targets: HASH_TARGETS, placements, log: silentLog });
    // h1 (events/0=4, events/1 counts as 0): q0 min(p0→3, p1→2), q1 min(2, 1), q2 min(3, 1).
    expect(cluster.committed('h1')).toEqual(['events-h/0@2', 'events-h/1@1', 'events-h/2@1']);
    // h3 (events/0 counts as 0, events/1=2): q0 min(0, 2), q1 min(0, 1), q2 p0→0 (p1 placed nothing in q2 after 2).
    expect(cluster.committed('h3')).toEqual(['events-h/0@0', 'events-h/1@0', 'events-h/2@0']);
    // h4 (7, 3): q0 nothing at/after either → end 50; q1 min(3, 1); q2 nothing → end 70.
    expect(cluster.committed('h4')).toEqual(['events-h/0@50', 'events-h/1@1', 'events-h/2@70']);
    expect(cluster.committed('h5') ?? []).toEqual([]);
    expect(result).toMatchObject({ h1: 3, h3: 3, h4: 3 });
  });

  it('reports a group whose commit fails, naming it, after committing the others', async () => {
    const cluster = new FakeCluster({ 'orders-r': { 0: 1010n, 1: 2003n } }, new Set(['gB']));
    const placements = preservePlacements();
    const error = await commitTranslatedOffsets({ cluster, groups: PRESERVE_GROUPS(), targets: PRESERVE_TARGETS, placements, log: silentLog }).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error?.message).toMatch(/1 consumer group/);
    expect(error?.message).toContain('gB');
    expect(error?.message).toContain('the group gB has active members');
    expect(error?.message).not.toContain('gA');
    // Groups before and after the failing one are committed.
    expect(cluster.committed('gA')).toEqual(['orders-r/0@1003', 'orders-r/1@2001']);
    expect(cluster.committed('gD')).toEqual(['orders-r/0@1003']);
    expect(cluster.committed('gB')).toBeUndefined();
  });

  it('names every failing group', async () => {
    const cluster = new FakeCluster({ 'orders-r': { 0: 1010n, 1: 2003n } }, new Set(['gA', 'gD']));
    await expect(
      commitTranslatedOffsets({ cluster, groups: PRESERVE_GROUPS(), targets: PRESERVE_TARGETS, placements: preservePlacements(), log: silentLog }),
    ).rejects.toThrow(/2 consumer group\(s\).*gA.*gD/);
    expect(cluster.committed('gB')).toEqual(['orders-r/0@1010', 'orders-r/1@2000']);
  });
});

describe('loadGroupSnapshot', () => {
  let dir: string;
  let store: LocalObjectStore;
  beforeEach(async () => {
    dir = tmpDir('restore-groups');
    store = new LocalObjectStore(dir);
    await store.ensureBucket('b');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const snap = (takenAt: number): GroupOffsetsSnapshot => ({
    format: 'coldstore-group-offsets-v1',
    takenAt,
    groups: { g: [{ topic: 't', partition: 0, offset: takenAt }] },
  });

  for (const prefix of ['', 'events/']) {
    it(`finds the newest snapshot at or before a moment (prefix "${prefix}")`, async () => {
      const location = { bucket: 'b', prefix };
      expect(await loadGroupSnapshot(store, location, undefined)).toBeUndefined();
      for (const t of [1_000, 2_000, 3_000]) await store.put('b', `${prefix}${groupSnapshotKey(t)}`, Buffer.from(JSON.stringify(snap(t))), {});
      expect((await loadGroupSnapshot(store, location, undefined))?.takenAt).toBe(3_000);
      expect((await loadGroupSnapshot(store, location, 2_500))?.takenAt).toBe(2_000);
      expect((await loadGroupSnapshot(store, location, 2_000))?.takenAt).toBe(2_000);
      expect((await loadGroupSnapshot(store, location, 1_999))?.takenAt).toBe(1_000);
      expect((await loadGroupSnapshot(store, location, 999))?.takenAt).toBeUndefined();
      expect((await loadGroupSnapshot(store, location, 10_000))?.takenAt).toBe(3_000);
    });
  }
});

describe('plannedGroups: the snapshot and groups are fixed when the records phase first starts', () => {
  let dir: string;
  let store: LocalObjectStore;
  const location = { bucket: 'b', prefix: '' };
  beforeEach(async () => {
    dir = tmpDir('restore-plan');
    store = new LocalObjectStore(dir);
    await store.ensureBucket('b');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const memoryState = () => {
    const map = new Map<string, unknown>();
    return {
      get: async <T>(key: string) => map.get(key) as T | undefined,
      put: async (key: string, value: unknown) => void map.set(key, value),
      delete: async (key: string) => void map.delete(key),
    };
  };
  const put = (takenAt: number, groups: GroupOffsetsSnapshot['groups']) =>
    store.put('b', groupSnapshotKey(takenAt), Buffer.from(JSON.stringify({ format: 'coldstore-group-offsets-v1', takenAt, groups })), {});

  it('keeps using the first snapshot after a newer one appears, and refuses groups it did not track', async () => {
    const state = memoryState();
    await put(1_000, { g1: [{ topic: 't', partition: 0, offset: 5 }], g2: [{ topic: 't', partition: 0, offset: 7 }] });
    const args = { state, store, location, at: undefined, wanted: ['g1'], restoringRecords: true, recordsRestoredBefore: false };
    expect((await plannedGroups(args)).get('g1')?.get('t/0')).toBe(5n);
    // The backup goes on and snapshots again; a restarted task must not switch to it.
    await put(2_000, { g1: [{ topic: 't', partition: 0, offset: 50 }], g2: [{ topic: 't', partition: 0, offset: 70 }] });
    expect((await plannedGroups({ ...args, recordsRestoredBefore: true })).get('g1')?.get('t/0')).toBe(5n);
    await expect(plannedGroups({ ...args, wanted: ['g1', 'g2'], restoringRecords: false, recordsRestoredBefore: true })).rejects.toThrow(
      /g2.*were not in groups/,
    );
  });

  it('records an empty plan when no group was asked for, so groups asked for later are refused', async () => {
    const state = memoryState();
    await put(1_000, { g1: [{ topic: 't', partition: 0, offset: 5 }] });
    expect((await plannedGroups({ state, store, location, at: undefined, wanted: [], restoringRecords: true, recordsRestoredBefore: false })).size).toBe(0);
    await expect(
      plannedGroups({ state, store, location, at: undefined, wanted: ['g1'], restoringRecords: false, recordsRestoredBefore: true }),
    ).rejects.toThrow(/g1/);
  });
});
