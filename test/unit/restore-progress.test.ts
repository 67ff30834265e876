// A RestoreSource task's typed progress (connectors/restore-source/progress.ts) and
// its source offsets (source-offsets.ts): counts carried over from an earlier run,
// what this run read, and the CLI's totals read from the same type.
import { describe, expect, it } from 'vitest';
import type { SourceOffsetEntry } from '../../runtime/api/index.js';
import type { TaskStatus } from '../../runtime/worker/task-status.js';
import { RecordsTally, type RestoreTaskProgress } from '../../connectors/restore-source/progress.js';
import { recordsRestoredBefore, storedPosition, toSourceRecord } from '../../connectors/restore-source/source-offsets.js';
import type { BackedUpRecord } from '../../connectors/layouts/kafka-v1/bundle-codec.js';
import { restoreTotals } from '../../app/cli/restore-progress.js';

const T0 = { topic: 'orders', partition: 0 };
const T1 = { topic: 'orders', partition: 1 };

const stored: SourceOffsetEntry[] = [
  { partition: { topic: 'orders', partition: 1 }, offset: { key: 'orders/1/00000000000000000010-00000000000000000019.avro.gz', offset: 14, records: 15 } },
  // A placement of the same partition: not where the records stopped.
  { partition: { kind: 'placement', topic: 'orders', partition: 0, target: 'o', target_partition: 0, at: 3 }, offset: { offset: 2 } },
];

describe('storedPosition and recordsRestoredBefore', () => {
  it('reads where a partition stopped and its count; a partition never restored starts from nothing', () => {
    expect(storedPosition(stored, T1)).toEqual({
      resume: { key: 'orders/1/00000000000000000010-00000000000000000019.avro.gz', offset: 14n },
      records: 15,
      lastOffset: 14,
      timestamp: null,
    });
    expect(storedPosition(stored, T0)).toEqual({ resume: undefined, records: 0, lastOffset: null, timestamp: null });
  });

  it('counts record offsets only, not placements', () => {
    expect(recordsRestoredBefore(stored)).toBe(true);
    expect(recordsRestoredBefore(stored.slice(1))).toBe(false);
    expect(recordsRestoredBefore([])).toBe(false);
  });
});

describe('toSourceRecord', () => {
  const target = { topic: 'orders-restored', partitions: 2, mode: 'preserve' as const };
  const record = (timestamp: number, timestampType: BackedUpRecord['timestampType']): BackedUpRecord => ({
    topic: 'orders',
    partition: 1,
    offset: 7n,
    timestamp,
    timestampType,
    key: null,
    value: Buffer.from('v'),
    headers: [{ key: 'h', value: null }],
  });

  it('keeps the content and the original timestamp, and carries the source partition and offset as given', () => {
    const sourcePartition = { topic: 'orders', partition: 1 };
    const out = toSourceRecord(record(1_700_000_000_000, 'LOG_APPEND_TIME'), sourcePartition, { key: 'k', offset: 7, records: 3 }, target);
    expect(out).toEqual({
      sourcePartition,
      sourceOffset: { key: 'k', offset: 7, records: 3 },
      topic: 'orders-restored',
      partition: 1,
      timestamp: 1_700_000_000_000,
      key: null,
      value: Buffer.from('v'),
      headers: [{ key: 'h', value: null }],
    });
    expect(out.sourcePartition).toBe(sourcePartition);
  });

  it('leaves records without a timestamp to the broker', () => {
    expect(toSourceRecord(record(-1, 'NOT_AVAILABLE'), {}, { key: 'k', offset: 7, records: 1 }, target).timestamp).toBeUndefined();
    expect(toSourceRecord(record(5, 'NOT_AVAILABLE'), {}, { key: 'k', offset: 7, records: 1 }, target).timestamp).toBeUndefined();
  });
});

describe('RecordsTally', () => {
  const tally = () =>
    new RecordsTally([
      { tp: T0, target: 'o', stored: storedPosition(stored, T0) },
      { tp: T1, target: 'o', stored: storedPosition(stored, T1) },
    ]);

  it('starts each partition from the earlier runs, with nothing read by this run', () => {
    expect(tally().figures()).toEqual({
      records: 15,
      objects: 0,
      bytes: 0,
      partitions: {
        'orders/0': { target: 'o', records: 0, objects: 0, last_offset: null, done: false },
        'orders/1': { target: 'o', records: 15, objects: 0, last_offset: 14, done: false },
      },
    });
  });

  it('counts bundles and bytes read by this run, records across runs, and numbers records on from the earlier count', () => {
    const t = tally();
    t.bundleRead(T1, 100);
    expect(t.recordsHandedOut(T1, 3, 17n)).toBe(15);
    expect(t.recordsHandedOut(T1, 2, 19n)).toBe(18);
    t.partitionDone(T1);
    t.bundleRead(T0, 50);
    expect(t.recordsHandedOut(T0, 4, 3n)).toBe(0);
    expect(t.figures()).toEqual({
      records: 24,
      objects: 2,
      bytes: 150,
      partitions: {
        'orders/0': { target: 'o', records: 4, objects: 1, last_offset: 3, done: false },
        'orders/1': { target: 'o', records: 20, objects: 1, last_offset: 19, done: true },
      },
    });
  });
});

describe('the CLI reads RestoreTaskProgress', () => {
  const progress = (figures: Partial<RestoreTaskProgress>): RestoreTaskProgress => ({
    phase: 'records',
    records: 0,
    objects: 0,
    bytes: 0,
    bad_objects: 0,
    partitions: {},
    ...figures,
  });
  const task = (id: number, state: TaskStatus['state'], p: RestoreTaskProgress | Record<string, unknown>): TaskStatus =>
    ({ id, state, worker_id: 'w', progress: p }) as TaskStatus;

  it('sums every task: records, what this run read and planned, partitions done', () => {
    const partitions = {
      'orders/0': { target: 'o', records: 4, objects: 1, last_offset: 3, done: true },
      'orders/1': { target: 'o', records: 2, objects: 1, last_offset: 1, done: false },
    };
    const totals = restoreTotals([
      task(0, 'RUNNING', progress({ records: 6, objects: 2, bytes: 300, bad_objects: 1, planned: { objects: 4, bytes: 600 }, partitions })),
      task(1, 'FINISHED', progress({ records: 10, objects: 1, bytes: 100, planned: { objects: 1, bytes: 100 } })),
    ]);
    expect(totals).toEqual({
      records: 16,
      objects: 3,
      bytes: 400,
      badObjects: 1,
      partitions: 2,
      partitionsDone: 1,
      planned: { objects: 5, bytes: 700 },
      running: true,
    });
  });

  it('has no plan until every task reports one, and ignores what is not a count (another shape, e.g. a dispatcher restore)', () => {
    const totals = restoreTotals([
      task(0, 'RUNNING', progress({ records: 1 })),
      task(1, 'RUNNING', { target: 'dispatcher', phase: 'streams', records: 'many' }),
    ]);
    expect(totals.planned).toBeUndefined();
    expect(totals.records).toBe(1);
  });
});
