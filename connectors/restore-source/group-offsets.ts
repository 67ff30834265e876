import {
  ColdstoreError,
  ErrorCodes,
  type KafkaCluster,
  type PartitionOffset,
  type RecordPlacement,
  type SourceOffsetEntry,
  type SourceRecord,
  type TaskLogger,
  type TaskStateStore,
} from '../../runtime/api/index.js';
import type { Location } from '../common/backup-location.js';
import { groupSnapshotListing, parseJsonObject, type GroupOffsetsSnapshot } from '../common/formats/backup-metadata.js';
import type { ObjectStore } from '../common/object-store/object-store.js';
import type { TopicTarget } from './targets.js';

/** The newest group-offsets snapshot taken at or before `at` (or the newest of all), with its key. */
export async function findGroupSnapshot(
  store: ObjectStore,
  location: Location,
  at: number | undefined,
): Promise<{ key: string; snapshot: GroupOffsetsSnapshot } | undefined> {
  const { prefix, startAfter } = groupSnapshotListing(at);
  for await (const item of store.list(
    location.bucket,
    `${location.prefix}${prefix}`,
    startAfter === undefined ? undefined : `${location.prefix}${startAfter}`,
  )) {
    const snapshot = await readGroupSnapshot(store, location.bucket, item.key);
    if (snapshot) return { key: item.key, snapshot };
  }
  return undefined;
}

export async function loadGroupSnapshot(store: ObjectStore, location: Location, at: number | undefined): Promise<GroupOffsetsSnapshot | undefined> {
  return (await findGroupSnapshot(store, location, at))?.snapshot;
}

async function readGroupSnapshot(store: ObjectStore, bucket: string, key: string): Promise<GroupOffsetsSnapshot | undefined> {
  const object = await store.get(bucket, key);
  return object ? parseJsonObject<GroupOffsetsSnapshot>(object.body, 'coldstore-group-offsets-v1', key) : undefined;
}

/** Which snapshot and groups a restore translates: fixed when its records phase first starts. */
export interface GroupPlan {
  snapshot: string | null;
  groups: string[];
}

const PLAN_KEY = 'group-plan';

/**
 * The groups to translate, from the snapshot the restore chose when it first started:
 * a newer snapshot taken by a still-running backup must not change the offsets whose
 * placements were being recorded. A group asked for later, whose placements were never
 * recorded, is refused rather than translated wrongly.
 */
export async function plannedGroups(args: {
  state: TaskStateStore;
  store: ObjectStore;
  location: Location;
  at: number | undefined;
  wanted: readonly string[];
  restoringRecords: boolean;
  recordsRestoredBefore: boolean;
  /** A restore of a backup by id uses the group offsets of its cut, not the newest snapshot. */
  fixed?: { key: string; snapshot: GroupOffsetsSnapshot } | undefined;
}): Promise<Map<string, Map<string, bigint>>> {
  let plan = await args.state.get<GroupPlan>(PLAN_KEY);
  if (!plan && args.restoringRecords && !args.recordsRestoredBefore) {
    const found = args.fixed ?? (await findGroupSnapshot(args.store, args.location, args.at));
    plan = { snapshot: found?.key ?? null, groups: [...chosenGroups(found?.snapshot, args.wanted).keys()] };
    // Tasks starting together find the same newest snapshot; the first plan stored is kept by all later starts.
    await args.state.put(PLAN_KEY, plan);
  }
  if (args.wanted.length === 0) return new Map();
  const snapshot = !plan?.snapshot
    ? undefined
    : plan.snapshot === args.fixed?.key
      ? args.fixed.snapshot
      : await readGroupSnapshot(args.store, args.location.bucket, plan.snapshot);
  const groups = chosenGroups(snapshot, args.wanted);
  const untracked = [...groups.keys()].filter((g) => !plan?.groups.includes(g));
  if (untracked.length > 0) {
    throw new ColdstoreError(
      ErrorCodes.CONFIG_INVALID,
      `Consumer group(s) ${untracked.join(', ')} were not in groups when this restore produced its records, so where their next records landed is unknown. ` +
        'Reset the connector offsets (DELETE /connectors/{name}/offsets) and run the restore again with them in groups.',
    );
  }
  return groups;
}

/** The snapshot's groups that the settings choose (`*`: all). */
export function chosenGroups(snapshot: GroupOffsetsSnapshot | undefined, wanted: readonly string[]): Map<string, Map<string, bigint>> {
  const chosen = new Map<string, Map<string, bigint>>();
  for (const [group, offsets] of Object.entries(snapshot?.groups ?? {})) {
    if (!wanted.includes('*') && !wanted.includes(group)) continue;
    chosen.set(group, new Map(offsets.map((o) => [`${o.topic}/${o.partition}`, BigInt(o.offset)])));
  }
  return chosen;
}

/**
 * The group offset a restored record must be found for on one source partition: for
 * each group, its committed offset there; under hash partitioning a group with no
 * offset on a partition of a topic it reads counts as having read nothing of it (0).
 */
function wantedOffsets(groups: Map<string, Map<string, bigint>>, topic: string, partitions: number, mode: TopicTarget['mode']): Map<number, bigint[]> {
  const perPartition = new Map<number, Set<bigint>>();
  for (const offsets of groups.values()) {
    const readsTopic = [...offsets.keys()].some((k) => k.startsWith(`${topic}/`) && k.slice(topic.length + 1).match(/^\d+$/));
    if (!readsTopic) continue;
    for (let p = 0; p < partitions; p++) {
      const offset = offsets.get(`${topic}/${p}`) ?? (mode === 'hash' ? 0n : undefined);
      if (offset === undefined) continue;
      const set = perPartition.get(p) ?? new Set<bigint>();
      set.add(offset);
      perPartition.set(p, set);
    }
  }
  return new Map([...perPartition].map(([p, set]) => [p, [...set].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))]));
}

const KIND = 'placement';

/** A placement entry: the first restored record at or after `at` on a source partition landed in this target partition at this offset. */
interface Placement {
  source: string;
  partition: number;
  target: string;
  targetPartition: number;
  at: bigint;
  offset: bigint;
}

function toEntry(p: Placement): SourceOffsetEntry {
  return {
    partition: { kind: KIND, topic: p.source, partition: p.partition, target: p.target, target_partition: p.targetPartition, at: Number(p.at) },
    offset: { offset: Number(p.offset) },
  };
}

export function placementsFrom(entries: SourceOffsetEntry[]): Placement[] {
  return entries
    .filter((e) => e.partition['kind'] === KIND)
    .map((e) => ({
      source: String(e.partition['topic']),
      partition: Number(e.partition['partition']),
      target: String(e.partition['target']),
      targetPartition: Number(e.partition['target_partition']),
      at: BigInt(e.partition['at']!),
      offset: BigInt(e.offset['offset'] as number),
    }));
}

/**
 * Records, as Kafka acknowledges them, where the first restored record at or after
 * each backed-up group offset landed, per target partition. These placements are
 * persisted with the restore's progress (in its transaction in transactional mode),
 * so they survive crashes and the offsets phase can translate exactly.
 */
export class PlacementTracker {
  /** `${source}/${p}` → offsets to find. */
  private readonly wanted = new Map<string, bigint[]>();
  /** `${source}/${p}>${q}` → index of the next wanted offset not yet found in q. */
  private readonly next = new Map<string, number>();

  constructor(groups: Map<string, Map<string, bigint>>, targets: Map<string, { sourcePartitions: number; target: TopicTarget }>, existing: Placement[]) {
    for (const [source, { sourcePartitions, target }] of targets) {
      for (const [p, offsets] of wantedOffsets(groups, source, sourcePartitions, target.mode)) this.wanted.set(`${source}/${p}`, offsets);
    }
    // Placements are found in offset order, so those already persisted are a prefix of each list.
    for (const placed of existing) {
      const offsets = this.wanted.get(`${placed.source}/${placed.partition}`);
      if (!offsets) continue;
      const key = `${placed.source}/${placed.partition}>${placed.targetPartition}`;
      const index = offsets.indexOf(placed.at) + 1;
      if (index > (this.next.get(key) ?? 0)) this.next.set(key, index);
    }
  }

  get active(): boolean {
    return this.wanted.size > 0;
  }

  delivered(records: readonly SourceRecord[], placements: readonly RecordPlacement[]): SourceOffsetEntry[] {
    const found: SourceOffsetEntry[] = [];
    // Records come in runs from one source partition: look its wanted offsets up once per run.
    let partition: SourceRecord['sourcePartition'] | undefined;
    let source = '';
    let p = 0;
    let offsets: bigint[] | undefined;
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      if (record.sourcePartition !== partition) {
        partition = record.sourcePartition;
        source = String(partition['topic']);
        p = Number(partition['partition']);
        offsets = this.wanted.get(`${source}/${p}`);
      }
      if (!offsets) continue;
      const placement = placements[i]!;
      const key = `${source}/${p}>${placement.partition}`;
      let index = this.next.get(key) ?? 0;
      const original = BigInt(record.sourceOffset['offset'] as number);
      while (index < offsets.length && offsets[index]! <= original) {
        found.push(
          toEntry({ source, partition: p, target: record.topic, targetPartition: placement.partition, at: offsets[index]!, offset: placement.offset }),
        );
        index++;
      }
      this.next.set(key, index);
    }
    return found;
  }
}

/**
 * Translates each chosen group's backed-up offsets to the restored topics and commits
 * them: per target partition, the offset of the first restored record the group had
 * not read yet, or the partition's end if it had read everything restored there.
 */
export async function commitTranslatedOffsets(args: {
  cluster: KafkaCluster;
  groups: Map<string, Map<string, bigint>>;
  targets: Map<string, { sourcePartitions: number; target: TopicTarget }>;
  placements: Placement[];
  log: TaskLogger;
}): Promise<Record<string, number>> {
  const committed: Record<string, number> = {};
  const placed = new Map<string, bigint>();
  for (const p of args.placements) placed.set(`${p.source}/${p.partition}>${p.target}/${p.targetPartition}@${p.at}`, p.offset);
  const failures: string[] = [];
  const ends = new Map<string, Map<number, bigint>>();
  const endsOf = async (target: TopicTarget) => {
    if (!ends.has(target.topic)) ends.set(target.topic, await args.cluster.endOffsets(target.topic, target.partitions));
    return ends.get(target.topic)!;
  };
  for (const [group, offsets] of args.groups) {
    const commits: PartitionOffset[] = [];
    for (const [source, { sourcePartitions, target }] of args.targets) {
      const wanted = wantedOffsets(new Map([[group, offsets]]), source, sourcePartitions, target.mode);
      if (wanted.size === 0) continue;
      const end = await endsOf(target);
      for (let q = 0; q < target.partitions; q++) {
        const contributors = target.mode === 'preserve' ? (wanted.has(q) ? [q] : []) : [...wanted.keys()];
        if (contributors.length === 0) continue;
        const found = contributors
          .map((p) => placed.get(`${source}/${p}>${target.topic}/${q}@${wanted.get(p)![0]}`))
          .filter((o): o is bigint => o !== undefined);
        const offset = found.length > 0 ? found.reduce((a, b) => (a < b ? a : b)) : end.get(q)!;
        commits.push({ topic: target.topic, partition: q, offset });
      }
    }
    try {
      await args.cluster.commitGroupOffsets(group, commits);
      committed[group] = commits.length;
      args.log.info({ group, offsets: commits.map((c) => `${c.topic}/${c.partition}@${c.offset}`) }, 'committed translated consumer-group offsets');
    } catch (err) {
      failures.push(`${group}: ${(err as Error).message}`);
    }
  }
  if (failures.length > 0) {
    throw new ColdstoreError(ErrorCodes.KAFKA_ERROR, `Could not commit offsets of ${failures.length} consumer group(s): ${failures.join('; ')}`);
  }
  return committed;
}
