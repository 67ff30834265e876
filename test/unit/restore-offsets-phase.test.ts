// RestoreSource's offsets phase (connectors/restore-source/offsets-phase.ts): the
// placements noted as records are delivered, the wait for every task of this run, and
// task 0's translated commit; and the refusal of an offsets-only run with nothing restored.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ColdstoreError,
  ErrorCodes,
  type PartitionOffset,
  type SourceOffsetEntry,
  type SourceRecord,
  type SourceTaskContext,
  type TaskStateStore,
} from '../../runtime/api/index.js';
import { restoreSourceConfig } from '../../connectors/restore-source/config.js';
import { OffsetsPhase } from '../../connectors/restore-source/offsets-phase.js';
import type { RestoreJob } from '../../connectors/restore-source/restore-job.js';
import type { ObjectStore } from '../../connectors/common/object-store/object-store.js';

function memoryState(): TaskStateStore & { data: Map<string, unknown> } {
  const data = new Map<string, unknown>();
  return {
    data,
    get: async <T>(key: string) => data.get(key) as T | undefined,
    put: async (key, value) => void data.set(key, value),
    delete: async (key) => void data.delete(key),
  };
}

/** A job of two tasks restoring `orders` (2 partitions, kept) from backup 1, whose cut holds group g at orders/0@3 and orders/1@0. */
function job(config: Record<string, string> = {}): RestoreJob {
  const settings = restoreSourceConfig.validate({ topics: 'orders', groups: 'g', 'restore.backup.id': '1', ...config }).values;
  return {
    settings,
    store: {} as ObjectStore,
    location: { bucket: 'b', prefix: '' },
    plan: {
      backupId: 1,
      ranges: new Map(),
      topics: {},
      groupSnapshot: {
        key: 'backup:1',
        snapshot: {
          format: 'coldstore-group-offsets-v1',
          takenAt: 0,
          groups: {
            g: [
              { topic: 'orders', partition: 0, offset: 3 },
              { topic: 'orders', partition: 1, offset: 0 },
            ],
          },
        },
      },
    },
    partitions: [],
    bounds: new Map(),
    targets: new Map([['orders', { sourcePartitions: 2, target: { topic: 'orders-r', partitions: 2, mode: 'preserve' } }]]),
    untilTimestamp: undefined,
    taskCount: 2,
    runId: 'run-2',
  };
}

function contextOf(taskId: number, connectorState: TaskStateStore, offsets: SourceOffsetEntry[] = []) {
  const commits: [string, PartitionOffset[]][] = [];
  const metrics: [string, number, unknown][] = [];
  const context = {
    connectorName: 'r',
    taskId,
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    state: memoryState(),
    connectorState,
    metrics: { add: (name: string, value: number, attributes?: unknown) => void metrics.push([name, value, attributes]), record: () => {} },
    offset: async () => undefined,
    offsets: async () => offsets,
    cluster: {
      endOffsets: async (_topic: string, partitions: number) => new Map(Array.from({ length: partitions }, (_, p) => [p, 100n])),
      commitGroupOffsets: async (group: string, o: PartitionOffset[]) => void commits.push([group, o]),
    },
    transactional: false,
  } as unknown as SourceTaskContext;
  return { context, commits, metrics, offsets };
}

const record = (partition: { topic: string; partition: number }, offset: number): SourceRecord => ({
  sourcePartition: partition,
  sourceOffset: { key: 'k', offset, records: offset + 1 },
  topic: 'orders-r',
  partition: partition.partition,
  key: null,
  value: null,
  headers: [],
});

afterEach(() => {
  vi.useRealTimers();
});

describe('OffsetsPhase', () => {
  it('notes where the first record at or after each group offset landed', async () => {
    const { context } = contextOf(1, memoryState());
    const phase = await OffsetsPhase.open(job(), context, []);
    const p0 = { topic: 'orders', partition: 0 };
    const placements = phase.delivered(
      [record(p0, 2), record(p0, 4), record(p0, 5)],
      [0n, 1n, 2n].map((offset) => ({ partition: 0, offset: offset + 40n })),
    );
    expect(placements).toEqual([
      { partition: { kind: 'placement', topic: 'orders', partition: 0, target: 'orders-r', target_partition: 0, at: 3 }, offset: { offset: 41 } },
    ]);
  });

  it('another task has nothing to commit: done at once, after marking its records done for this run', async () => {
    const state = memoryState();
    const { context, commits } = contextOf(1, state);
    const phase = await OffsetsPhase.open(job(), context, []);
    await phase.recordsDone();
    expect(state.data.get('records-done/1')).toMatchObject({ run: 'run-2' });
    expect(await phase.run()).toBe(true);
    expect(commits).toEqual([]);
    expect(phase.groupsCommitted).toBeUndefined();
  });

  it('task 0 waits for every task of this run, then commits the translated offsets', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const state = memoryState();
    const placement: SourceOffsetEntry = {
      partition: { kind: 'placement', topic: 'orders', partition: 0, target: 'orders-r', target_partition: 0, at: 3 },
      offset: { offset: 41 },
    };
    const { context, commits, metrics, offsets } = contextOf(0, state);
    const phase = await OffsetsPhase.open(job(), context, []);
    await phase.recordsDone();
    // Task 1's marker is from an earlier run of the job.
    await state.put('records-done/1', { at: 'then', run: 'run-1' });
    expect(await phase.run()).toBe(false);
    await state.put('records-done/1', { at: 'now', run: 'run-2' });
    // Checked again only after a second.
    expect(await phase.run()).toBe(false);
    vi.setSystemTime(Date.now() + 1_001);
    offsets.push(placement);
    expect(await phase.run()).toBe(true);
    // orders/0: where offset 3 landed; orders/1: no record at or after the group's offset 0 was placed, so the partition's end.
    expect(commits).toEqual([
      [
        'g',
        [
          { topic: 'orders-r', partition: 0, offset: 41n },
          { topic: 'orders-r', partition: 1, offset: 100n },
        ],
      ],
    ]);
    expect(phase.groupsCommitted).toEqual({ g: 2 });
    expect(metrics).toEqual([['coldstore_restore_group_offsets', 2, { group: 'g' }]]);
  });

  it('restore.phases=offsets commits without waiting, from the placements an earlier run recorded', async () => {
    const stored: SourceOffsetEntry[] = [{ partition: { topic: 'orders', partition: 0 }, offset: { key: 'k', offset: 9, records: 10 } }];
    const state = memoryState();
    await state.put('group-plan', { snapshot: 'backup:1', groups: ['g'] });
    const { context, commits } = contextOf(0, state, stored);
    const phase = await OffsetsPhase.open(job({ 'restore.phases': 'offsets' }), context, stored);
    expect(await phase.run()).toBe(true);
    expect(commits).toHaveLength(1);
  });

  it('refuses restore.phases=offsets when this connector never restored records', async () => {
    const { context } = contextOf(0, memoryState());
    const opening = OffsetsPhase.open(job({ 'restore.phases': 'offsets' }), context, []);
    await expect(opening).rejects.toBeInstanceOf(ColdstoreError);
    await expect(opening).rejects.toMatchObject({ code: ErrorCodes.CONFIG_INVALID });
  });
});
