import { describe, expect, it } from 'vitest';
import { ArrivalLog } from '../../app/ui/arrival-log.js';
import { readSample, recordsPerSecond, totalLag } from '../../app/ui/connector-sample.js';
import type { ConnectorStatus } from '../../runtime/herder/connector-instance.js';

const sinkStatus = (partitions: { partition: number; committed: number; end: number | null; lag: number | null }[]): ConnectorStatus => ({
  name: 'b',
  type: 'sink',
  connector: { state: 'RUNNING', worker_id: 'w' },
  tasks: [
    {
      id: 0,
      state: 'RUNNING',
      worker_id: 'w',
      progress: {
        partitions: partitions.map((p) => ({ topic: 't', partition: p.partition, committed_offset: p.committed, end_offset: p.end, lag: p.lag })),
      },
    },
  ],
});

const sourceStatus = (records: number[]): ConnectorStatus => ({
  name: 'r',
  type: 'source',
  connector: { state: 'RUNNING', worker_id: 'w' },
  tasks: records.map((r, id) => ({ id, state: 'RUNNING' as const, worker_id: 'w', progress: { phase: 'records', records: r } })),
});

describe('ArrivalLog: the age of the oldest record not yet durable', () => {
  it('is the time since the log end first passed the first offset not yet durable', () => {
    const log = new ArrivalLog();
    log.observe(1_000, 10); // offsets 0..9 by t=1000: the first observation
    log.observe(2_000, 10);
    log.observe(3_000, 25); // offsets 10..24 arrived between 2000 and 3000
    log.observe(4_000, 40);
    // Everything below 10 is durable: offset 10 first seen at t=3000.
    expect(log.age(10, 5_000)).toEqual({ ageMs: 2_000, atLeast: false });
    // Offset 30 was first seen at t=4000.
    expect(log.age(30, 5_000)).toEqual({ ageMs: 1_000, atLeast: false });
    // Everything durable: nothing waits.
    expect(log.age(40, 5_000)).toEqual({ ageMs: 0, atLeast: false });
  });

  it('says "at least" for records that were there before the first observation, until they are durable', () => {
    const log = new ArrivalLog();
    log.observe(1_000, 500);
    log.observe(2_000, 600);
    expect(log.age(100, 9_000)).toEqual({ ageMs: 8_000, atLeast: true });
    // Past the backlog that was already there: the age is known again.
    expect(log.age(550, 9_000)).toEqual({ ageMs: 7_000, atLeast: false });
  });

  it('stays bounded under a long lag, rounding ages up rather than down', () => {
    const log = new ArrivalLog(8);
    for (let t = 0; t < 1_000; t++) log.observe(t * 1_000, (t + 1) * 10);
    // The oldest record waited the whole 1000 s: never rounded down.
    expect(log.age(0, 1_000_000).ageMs).toBe(1_000_000);
    const observations = (log as unknown as { seen: unknown[] }).seen.length;
    expect(observations).toBeLessThanOrEqual(8);
    // Exact answer for offset 5_000: first seen at t = 500 s (end 5_010), age 500 s at now = 1_000 s.
    const { ageMs } = log.age(5_000, 1_000_000);
    expect(ageMs).toBeGreaterThanOrEqual(500_000);
    // Rounded up by at most about 2 x lag / capacity (1000 s of lag in 8 observations: 250 s).
    expect(ageMs).toBeLessThanOrEqual(500_000 + 250_000);
  });

  it('starts over when the end offset goes backwards (a recreated topic): old observations no longer age', () => {
    const log = new ArrivalLog();
    log.observe(1_000, 1_000);
    log.observe(2_000, 1_200);
    expect(log.age(1_100, 2_000)).toEqual({ ageMs: 0, atLeast: false });
    // Recreated at about t=290 s: 5 records in the new log, 3 of them durable.
    log.observe(300_000, 5);
    expect(log.age(3, 300_000)).toEqual({ ageMs: 0, atLeast: true });
    expect(log.age(3, 310_000)).toEqual({ ageMs: 10_000, atLeast: true });
    log.observe(311_000, 9);
    // The new records durable: nothing waits, whatever the old log held beyond 1_100.
    expect(log.age(5, 312_000)).toEqual({ ageMs: 1_000, atLeast: false });
    expect(log.age(9, 400_000)).toEqual({ ageMs: 0, atLeast: false });
  });

  it('starts over after a recreated topic even when the old log was caught up (nothing left observed)', () => {
    const log = new ArrivalLog();
    log.observe(1_000, 100);
    expect(log.age(100, 1_000)).toEqual({ ageMs: 0, atLeast: false });
    // 7 records written to the recreated topic at unknown times before t=2000.
    log.observe(2_000, 7);
    expect(log.age(0, 5_000)).toEqual({ ageMs: 3_000, atLeast: true });
  });
});

describe('connector samples: records/s and lag from the status', () => {
  it('derives durable positions from end - lag, and rates from what became durable', () => {
    const a = readSample(sinkStatus([{ partition: 0, committed: 100, end: 150, lag: 50 }]), 0);
    expect(a.partitions).toEqual([{ key: 't/0', end: 150, durable: 100, lag: 50 }]);
    // durableThrough may be past the committed offset (transaction markers): end - lag wins.
    const b = readSample(
      sinkStatus([
        { partition: 0, committed: 299, end: 300, lag: 0 },
        { partition: 1, committed: 40, end: 90, lag: 50 },
      ]),
      2_000,
    );
    expect(b.partitions[0]!.durable).toBe(300);
    // Partition 1 was not in the first sample: only partition 0's 200 records in 2 s count.
    expect(recordsPerSecond(a, b)).toBe(100);
    expect(totalLag(b)).toBe(50);
    expect(recordsPerSecond(undefined, b)).toBeUndefined();
  });

  it('never reports a negative rate when positions go back (offsets reset)', () => {
    const a = readSample(sinkStatus([{ partition: 0, committed: 500, end: 500, lag: 0 }]), 0);
    const b = readSample(sinkStatus([{ partition: 0, committed: 0, end: 500, lag: 500 }]), 1_000);
    expect(recordsPerSecond(a, b)).toBe(0);
  });

  it('sums a source task count and rates it, a restarted task counting as zero', () => {
    const a = readSample(sourceStatus([100, 50]), 0);
    const b = readSample(sourceStatus([400, 150]), 4_000);
    expect(a.records).toBe(150);
    expect(recordsPerSecond(a, b)).toBe(100);
    const c = readSample(sourceStatus([10, 150]), 5_000);
    expect(recordsPerSecond(b, c)).toBe(0);
    expect(totalLag(c)).toBeUndefined();
  });

  it('has no rate for a connector that reports neither partitions nor records', () => {
    const bare: ConnectorStatus = {
      name: 'x',
      type: 'source',
      connector: { state: 'RUNNING', worker_id: 'w' },
      tasks: [{ id: 0, state: 'RUNNING', worker_id: 'w' }],
    };
    expect(recordsPerSecond(readSample(bare, 0), readSample(bare, 1_000))).toBeUndefined();
  });
});
