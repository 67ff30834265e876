// PartitionWriter: how one partition's records are cut into bundles (docs/delivery-guarantees.md,
// docs/formats.md). Pure logic, no store.
import { describe, expect, it } from 'vitest';
import type { SinkRecord } from '../../runtime/api/index.js';
import {
  KeptRecords,
  PartitionWriter,
  recordBytes,
  type BundleLimits,
  type PlannedRange,
  type SealedBundle,
  type WriterOutput,
} from '../../connectors/backup-sink/partition-writer.js';

const TP = { topic: 't', partition: 3 };
const LIMITS: BundleLimits = { maxRecords: 3, maxBytes: 1_000_000, maxAgeMs: 1_000 };

function rec(offset: number | bigint, valueBytes = 1): SinkRecord {
  return {
    topic: TP.topic,
    partition: TP.partition,
    offset: BigInt(offset),
    timestamp: 1_700_000_000_000 + Number(offset),
    timestampType: 'CREATE_TIME',
    key: null,
    value: Buffer.alloc(valueBytes, 0x61),
    headers: [],
  };
}

const range = (start: number, end: number, durable = false): PlannedRange => ({ start: BigInt(start), end: BigInt(end), durable });

/** A bundle as `[start, end, offsets of its records]`, easy to compare. */
type Shape = [number, number, number[]];
const shape = (b: SealedBundle<KeptRecords>): Shape => [Number(b.start), Number(b.end), b.body.records.map((r) => Number(r.offset))];
const skippedShape = (p: PlannedRange): [number, number, boolean] => [Number(p.start), Number(p.end), p.durable];

/** Feeds offsets (all at time `now`) and collects everything the writer produced. */
function feed(writer: PartitionWriter, offsets: number[], now = 0): { sealed: Shape[]; skipped: [number, number, boolean][] } {
  const sealed: Shape[] = [];
  const skipped: [number, number, boolean][] = [];
  for (const o of offsets) {
    const out: WriterOutput<KeptRecords> = writer.add(rec(o), now);
    sealed.push(...out.sealed.map(shape));
    skipped.push(...out.skipped.map(skippedShape));
  }
  return { sealed, skipped };
}

/** Every bundle starts at the previous one's end + 1 and holds only offsets in its range, in order. */
function expectTiling(ranges: [number, number, ...unknown[]][]): void {
  for (const [i, r] of ranges.entries()) {
    expect(r[0], `range ${i} start <= end`).toBeLessThanOrEqual(r[1]);
    const prev = ranges[i - 1];
    if (prev) expect(r[0], `range ${i} starts right after range ${i - 1}`).toBe(prev[1] + 1);
  }
}

describe('recordBytes', () => {
  it('counts key, value, header keys and header values; null counts as 0', () => {
    const r: SinkRecord = {
      ...rec(0),
      key: Buffer.alloc(10),
      value: Buffer.alloc(20),
      headers: [
        { key: 'hdr', value: Buffer.alloc(5) },
        { key: 'x', value: null },
      ],
    };
    expect(recordBytes(r)).toBe(10 + 20 + 3 + 5 + 1);
    expect(recordBytes({ ...rec(0), key: null, value: null })).toBe(0);
  });
});

describe('PartitionWriter: closing normal bundles', () => {
  it('closes a bundle when it holds maxRecords records', () => {
    const w = new PartitionWriter(TP, LIMITS, undefined);
    const outputs = [0, 1, 2, 3, 4, 5, 6].map((o) => w.add(rec(o), 0));
    expect(outputs.map((o) => o.sealed.length)).toEqual([0, 0, 1, 0, 0, 1, 0]);
    expect(outputs.flatMap((o) => o.sealed.map(shape))).toEqual([
      [0, 2, [0, 1, 2]],
      [3, 5, [3, 4, 5]],
    ]);
    expect(outputs.every((o) => o.skipped.length === 0)).toBe(true);
    expect(w.bufferedRecords).toBe(1);
  });

  it('carries topic, partition and byte count on a sealed bundle', () => {
    const w = new PartitionWriter(TP, LIMITS, undefined);
    w.add(rec(0, 7), 0);
    w.add(rec(1, 8), 0);
    const [bundle] = w.add(rec(2, 9), 0).sealed;
    expect(bundle).toMatchObject({ topic: 't', partition: 3, start: 0n, end: 2n, bytes: 24 });
  });

  it('closes a bundle when its records reach maxBytes', () => {
    const w = new PartitionWriter(TP, { ...LIMITS, maxRecords: 1000, maxBytes: 100 }, undefined);
    expect(w.add(rec(0, 40), 0).sealed).toEqual([]);
    expect(w.add(rec(1, 40), 0).sealed).toEqual([]);
    const out = w.add(rec(2, 40), 0).sealed;
    expect(out.map(shape)).toEqual([[0, 2, [0, 1, 2]]]);
    expect(out[0]?.bytes).toBe(120);
    // A record at exactly the limit closes on its own.
    expect(w.add(rec(3, 100), 0).sealed.map(shape)).toEqual([[3, 3, [3]]]);
    expect(w.bufferedRecords).toBe(0);
  });

  it('closes by age only through sealIfAged, measured from the first record of the bundle', () => {
    const w = new PartitionWriter(TP, { ...LIMITS, maxRecords: 1000 }, undefined);
    expect(w.sealIfAged(10_000)).toBeUndefined(); // nothing buffered
    expect(w.add(rec(0), 1_000).sealed).toEqual([]);
    expect(w.add(rec(1), 1_900).sealed).toEqual([]); // a later record does not restart the clock
    expect(w.sealIfAged(1_999)).toBeUndefined();
    expect(w.bufferedRecords).toBe(2);
    const aged = w.sealIfAged(2_000);
    expect(aged && shape(aged)).toEqual([0, 1, [0, 1]]);
    expect(w.sealIfAged(100_000)).toBeUndefined();
    // The next bundle's clock starts at its own first record.
    w.add(rec(2), 5_000);
    expect(w.sealIfAged(5_999)).toBeUndefined();
    const next = w.sealIfAged(6_000);
    expect(next && shape(next)).toEqual([2, 2, [2]]);
  });

  it('sealBuffered closes what is buffered (shutdown), ending at the last record', () => {
    const w = new PartitionWriter(TP, LIMITS, undefined);
    expect(w.sealBuffered()).toEqual([]);
    feed(w, [10, 11]);
    expect(w.sealBuffered().map(shape)).toEqual([[10, 11, [10, 11]]]);
    expect(w.bufferedRecords).toBe(0);
    expect(w.sealBuffered()).toEqual([]);
    // The next bundle abuts the one closed on shutdown, even after a gap.
    feed(w, [15]);
    expect(w.sealBuffered().map(shape)).toEqual([[12, 15, [15]]]);
  });
});

describe('PartitionWriter: bundles tile the offset space', () => {
  it('covers offsets with no record (compaction, transaction markers) in the following bundle', () => {
    const w = new PartitionWriter(TP, LIMITS, undefined);
    const { sealed } = feed(w, [0, 1, 5, 6, 10, 11, 12, 20]);
    sealed.push(...w.sealBuffered().map(shape));
    expect(sealed).toEqual([
      [0, 5, [0, 1, 5]],
      [6, 11, [6, 10, 11]],
      [12, 20, [12, 20]],
    ]);
    expectTiling(sealed);
  });

  it('tiles across every way of closing (count, age, shutdown)', () => {
    const w = new PartitionWriter(TP, LIMITS, undefined);
    const all: Shape[] = [];
    all.push(...feed(w, [100, 103, 104], 0).sealed); // by count
    all.push(...feed(w, [108], 0).sealed);
    const aged = w.sealIfAged(5_000); // by age
    if (aged) all.push(shape(aged));
    all.push(...feed(w, [120, 130], 6_000).sealed);
    all.push(...w.sealBuffered().map(shape)); // shutdown
    expect(all).toEqual([
      [100, 104, [100, 103, 104]],
      [105, 108, [108]],
      [109, 130, [120, 130]],
    ]);
    expectTiling(all);
  });

  it('starts the first bundle at a known start offset below the first record', () => {
    const w = new PartitionWriter(TP, LIMITS, 100n);
    const { sealed } = feed(w, [105, 106, 109]);
    expect(sealed).toEqual([[100, 109, [105, 106, 109]]]);
  });

  it('starts the first bundle at the first record when the start is unknown', () => {
    const w = new PartitionWriter(TP, LIMITS, undefined);
    expect(feed(w, [105, 106, 109]).sealed).toEqual([[105, 109, [105, 106, 109]]]);
  });
});

describe('PartitionWriter: planned ranges (rebuilt after a crash)', () => {
  it('rebuilds a non-durable planned range with exactly its boundaries, whatever the limits', () => {
    const w = new PartitionWriter(TP, { maxRecords: 3, maxBytes: 50, maxAgeMs: 10 }, 10n, [range(10, 19)]);
    const sealed: Shape[] = [];
    for (let o = 10; o <= 19; o++) {
      sealed.push(...w.add(rec(o, 20), o * 1_000).sealed.map(shape)); // beyond maxRecords and maxBytes, ages past maxAgeMs
      if (o < 19) expect(w.sealIfAged(1_000_000), `no age close at ${o}`).toBeUndefined();
    }
    expect(sealed).toEqual([[10, 19, [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]]]);
    expect(w.bufferedRecords).toBe(0);
  });

  it('keeps the planned boundaries when records inside the range are missing', () => {
    const w = new PartitionWriter(TP, LIMITS, 10n, [range(10, 19)]);
    // 10 and 11 gone (compaction), 13..18 gone: the range still starts at 10 and ends at 19.
    expect(feed(w, [12, 19])).toEqual({ sealed: [[10, 19, [12, 19]]], skipped: [] });
  });

  it('rebuilds a planned range when the start offset is unknown', () => {
    const w = new PartitionWriter(TP, LIMITS, undefined, [range(10, 19)]);
    expect(feed(w, [12, 13, 14, 15, 19]).sealed).toEqual([[10, 19, [12, 13, 14, 15, 19]]]);
  });

  it('drops the records of a durable planned range and reports it in skipped', () => {
    const w = new PartitionWriter(TP, LIMITS, 10n, [range(10, 19, true)]);
    const outputs = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19].map((o) => w.add(rec(o), 0));
    expect(outputs.flatMap((o) => o.sealed)).toEqual([]);
    expect(outputs.slice(0, -1).every((o) => o.skipped.length === 0)).toBe(true);
    expect(outputs[outputs.length - 1]?.skipped.map(skippedShape)).toEqual([[10, 19, true]]);
    expect(w.bufferedRecords).toBe(0);
    // The stream continues right after the durable range.
    const after = feed(w, [22, 23, 24]);
    expect(after.sealed).toEqual([[20, 24, [22, 23, 24]]]);
  });

  it('finishes a planned range whose remaining records are missing when a later offset arrives', () => {
    const w = new PartitionWriter(TP, LIMITS, 10n, [range(10, 19)]);
    expect(feed(w, [10, 12])).toEqual({ sealed: [], skipped: [] });
    const out = w.add(rec(25), 0);
    expect(out.sealed.map(shape)).toEqual([[10, 19, [10, 12]]]);
    expect(out.skipped).toEqual([]);
    expect(w.bufferedRecords).toBe(1);
    expect(w.sealBuffered().map(shape)).toEqual([[20, 25, [25]]]);
  });

  it('finishes a durable planned range whose last record is missing when a later offset arrives', () => {
    const w = new PartitionWriter(TP, LIMITS, 10n, [range(10, 19, true)]);
    expect(feed(w, [10, 15])).toEqual({ sealed: [], skipped: [] });
    expect(feed(w, [22])).toEqual({ sealed: [], skipped: [[10, 19, true]] });
    expect(w.sealBuffered().map(shape)).toEqual([[20, 22, [22]]]);
  });

  it('reports a non-durable planned range with no record left as skipped, and the next bundle abuts it', () => {
    const w = new PartitionWriter(TP, LIMITS, 10n, [range(10, 19)]);
    expect(feed(w, [25])).toEqual({ sealed: [], skipped: [[10, 19, false]] });
    expect(w.sealBuffered().map(shape)).toEqual([[20, 25, [25]]]);
  });

  it('finishes several planned ranges jumped over at once, in order', () => {
    const w = new PartitionWriter(TP, LIMITS, 10n, [range(10, 19), range(20, 29, true), range(30, 39)]);
    expect(feed(w, [11])).toEqual({ sealed: [], skipped: [] });
    expect(feed(w, [45])).toEqual({
      sealed: [[10, 19, [11]]],
      skipped: [
        [20, 29, true],
        [30, 39, false],
      ],
    });
    expect(w.sealBuffered().map(shape)).toEqual([[40, 45, [45]]]);
  });

  it('rebuilds consecutive planned ranges each with its own boundaries', () => {
    const w = new PartitionWriter(TP, LIMITS, 10n, [range(10, 14), range(15, 24)]);
    const { sealed } = feed(w, [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 24]);
    expect(sealed).toEqual([
      [10, 14, [10, 11, 12, 13, 14]],
      [15, 24, [15, 16, 17, 18, 19, 20, 24]],
    ]);
  });

  it('goes back to the normal limits after the last planned range', () => {
    const w = new PartitionWriter(TP, LIMITS, 10n, [range(10, 11)]);
    const { sealed } = feed(w, [10, 11, 12, 13, 14, 15]);
    expect(sealed).toEqual([
      [10, 11, [10, 11]],
      [12, 14, [12, 13, 14]],
    ]);
  });

  it('closes a normal buffer before a planned range at planned.start - 1', () => {
    const w = new PartitionWriter(TP, LIMITS, 0n, [range(10, 19)]);
    expect(feed(w, [5, 7])).toEqual({ sealed: [], skipped: [] });
    const out = w.add(rec(12), 0);
    expect(out.sealed.map(shape)).toEqual([[0, 9, [5, 7]]]);
    expect(feed(w, [19]).sealed).toEqual([[10, 19, [12, 19]]]);
  });

  it('closes a normal buffer before a durable planned range at planned.start - 1', () => {
    const w = new PartitionWriter(TP, LIMITS, 0n, [range(10, 19, true)]);
    feed(w, [5]);
    expect(feed(w, [12])).toEqual({ sealed: [[0, 9, [5]]], skipped: [] });
    expect(feed(w, [19])).toEqual({ sealed: [], skipped: [[10, 19, true]] });
  });

  it('closes a normal buffer at planned.start - 1 when the first record in the range is its end', () => {
    const w = new PartitionWriter(TP, LIMITS, 0n, [range(10, 19)]);
    feed(w, [5]);
    expect(feed(w, [19]).sealed).toEqual([
      [0, 9, [5]],
      [10, 19, [19]],
    ]);
  });

  it('closes a normal buffer at planned.start - 1 when the next record jumps over a non-durable planned range', () => {
    const w = new PartitionWriter(TP, LIMITS, 0n, [range(10, 19)]);
    feed(w, [5, 7]);
    expect(feed(w, [25])).toEqual({ sealed: [[0, 9, [5, 7]]], skipped: [[10, 19, false]] });
    expect(w.sealBuffered().map(shape)).toEqual([[20, 25, [25]]]);
  });

  it('closes a normal buffer at planned.start - 1 when the next record jumps over a durable planned range', () => {
    const w = new PartitionWriter(TP, LIMITS, 0n, [range(10, 19, true)]);
    feed(w, [5]);
    expect(feed(w, [25])).toEqual({ sealed: [[0, 9, [5]]], skipped: [[10, 19, true]] });
    expect(w.sealBuffered().map(shape)).toEqual([[20, 25, [25]]]);
  });

  it('never closes a partly rebuilt planned range early: sealIfAged and sealBuffered leave it open', () => {
    const w = new PartitionWriter(TP, LIMITS, 10n, [range(10, 19)]);
    feed(w, [10, 11, 12, 13], 0);
    expect(w.sealIfAged(10_000_000)).toBeUndefined();
    expect(w.sealBuffered()).toEqual([]);
    expect(w.bufferedRecords).toBe(4);
    // It still closes with its exact boundaries and all its records.
    expect(feed(w, [19]).sealed).toEqual([[10, 19, [10, 11, 12, 13, 19]]]);
    // And the normal rules apply again afterwards.
    feed(w, [20], 20_000);
    const aged = w.sealIfAged(30_000);
    expect(aged && shape(aged)).toEqual([20, 20, [20]]);
  });

  it('never closes a planned range early when its start record arrived before the age limit passed', () => {
    const w = new PartitionWriter(TP, { ...LIMITS, maxAgeMs: 100 }, undefined, [range(50, 59)]);
    w.add(rec(50), 0);
    expect(w.sealIfAged(100)).toBeUndefined();
    expect(w.sealIfAged(1_000_000)).toBeUndefined();
    expect(w.sealBuffered()).toEqual([]);
    expect(feed(w, [60])).toEqual({ sealed: [[50, 59, [50]]], skipped: [] });
  });

  it('tiles across planned and normal bundles', () => {
    const w = new PartitionWriter(TP, LIMITS, 0n, [range(10, 19), range(20, 24, true), range(25, 30)]);
    const produced: [number, number][] = [];
    for (const o of [1, 2, 11, 12, 18, 21, 22, 26, 40, 41, 42, 50]) {
      const out = w.add(rec(o), 0);
      // The writer returns sealed bundles and skipped ranges; their union must tile.
      const ranges: [number, number][] = [
        ...out.sealed.map((b): [number, number] => [Number(b.start), Number(b.end)]),
        ...out.skipped.map((p): [number, number] => [Number(p.start), Number(p.end)]),
      ];
      produced.push(...ranges.sort((a, b) => a[0] - b[0]));
    }
    produced.push(...w.sealBuffered().map((b): [number, number] => [Number(b.start), Number(b.end)]));
    expect(produced).toEqual([
      [0, 9],
      [10, 19],
      [20, 24],
      [25, 30],
      [31, 42],
      [43, 50],
    ]);
    expectTiling(produced);
  });
});

describe('KeptRecords', () => {
  it('keeps copies, not views that would pin the whole polled batch', () => {
    // Larger than node's buffer pool, like a polled batch: its own ArrayBuffer.
    const batch = Buffer.concat([Buffer.from('kkvvhh'), Buffer.alloc(64 * 1024)]);
    const record: SinkRecord = {
      ...rec(5),
      key: batch.subarray(0, 2),
      value: batch.subarray(2, 4),
      headers: [
        { key: 'h', value: batch.subarray(4, 6) },
        { key: 'n', value: null },
      ],
    };
    const kept = new KeptRecords();
    kept.add(record);
    const [copy] = kept.records;
    expect(copy).toEqual(record);
    for (const bytes of [copy!.key, copy!.value, copy!.headers[0]!.value]) expect(bytes!.buffer).not.toBe(batch.buffer);
    expect(copy!.headers[1]!.value).toBeNull();
  });
});
