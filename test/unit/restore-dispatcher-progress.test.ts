// The dispatcher restore's resume logic (connectors/restore-source/dispatcher/
// watermark.ts, progress.ts): a watermark that moves only over a finished prefix of
// parallel work, and durable progress written in order, per backup.
import { describe, expect, it } from 'vitest';
import type { TaskLogger, TaskStateStore } from '../../runtime/api/index.js';
import {
  countBundle,
  countStream,
  emptyCounts,
  PROGRESS_KEY,
  ProgressStore,
  REPORTED_FAILURES,
  type SavedProgress,
} from '../../connectors/restore-source/dispatcher/progress.js';
import { ContiguousWatermark } from '../../connectors/restore-source/dispatcher/watermark.js';

const silent: TaskLogger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** A task state whose writes resolve when the test says, recording what each wrote. */
function slowState(initial: Record<string, unknown> = {}) {
  const data = new Map<string, unknown>(Object.entries(initial));
  const writes: { value: SavedProgress; release: () => void }[] = [];
  const state: TaskStateStore = {
    get: async <T>(key: string) => data.get(key) as T | undefined,
    put: (key, value) =>
      new Promise<void>((release) => {
        writes.push({
          value: value as SavedProgress,
          release: () => {
            data.set(key, value);
            release();
          },
        });
      }),
    delete: async (key) => void data.delete(key),
  };
  return { state, data, writes };
}

describe('ContiguousWatermark', () => {
  it('moves only over the finished prefix, handing back the outcomes it passes in key order', () => {
    const mark = new ContiguousWatermark<string>(undefined);
    for (const key of ['a', 'b', 'c', 'd']) mark.start(key);
    expect(mark.finish('c', 'C')).toEqual([]);
    expect(mark.finish('b', 'B')).toEqual([]);
    expect(mark.watermark).toBeUndefined();
    expect(mark.finish('a', 'A')).toEqual([
      { key: 'a', outcome: 'A' },
      { key: 'b', outcome: 'B' },
      { key: 'c', outcome: 'C' },
    ]);
    expect(mark.watermark).toBe('c');
    expect(mark.pending).toBe(1);
    mark.start('e');
    expect(mark.finish('e', 'E')).toEqual([]);
    expect(mark.finish('d', 'D').map((p) => p.key)).toEqual(['d', 'e']);
    expect(mark.watermark).toBe('e');
    expect(mark.pending).toBe(0);
  });

  it('resumes after a saved watermark and refuses keys out of order or finished twice', () => {
    const mark = new ContiguousWatermark<number>('m');
    expect(() => mark.start('m')).toThrow(/out of order/);
    expect(() => mark.start('a')).toThrow(/out of order/);
    mark.start('n');
    expect(() => mark.start('n')).toThrow(/out of order/);
    expect(() => mark.finish('x', 1)).toThrow(/not pending/);
    expect(mark.finish('n', 1)).toEqual([{ key: 'n', outcome: 1 }]);
    expect(() => mark.finish('n', 1)).toThrow(/not pending/);
    expect(mark.watermark).toBe('n');
  });

  it('keeps working over many keys with one slow key holding the watermark back', () => {
    const mark = new ContiguousWatermark<number>(undefined);
    const keys = Array.from({ length: 5000 }, (_, i) => `k${String(i).padStart(5, '0')}`);
    for (const k of keys) mark.start(k);
    let passed = 0;
    for (const k of keys.slice(1)) passed += mark.finish(k, 1).length;
    expect(passed).toBe(0);
    expect(mark.pending).toBe(5000);
    expect(mark.finish(keys[0]!, 1)).toHaveLength(5000);
    expect(mark.watermark).toBe(keys[4999]);
  });
});

describe('ProgressStore', () => {
  it('writes changes in the order made, each write holding every earlier change', async () => {
    const { state, data, writes } = slowState();
    const store = await ProgressStore.open(state, 'backup-a', silent);
    const first = store.update((p) => (p.groups['s/binary/sourced'] = 'k1'));
    const second = store.update((p) => (p.streams['s'] = 's/content/aa'));
    // The second write waits for the first.
    await new Promise((r) => setTimeout(r, 10));
    expect(writes).toHaveLength(1);
    expect(writes[0]!.value.groups).toEqual({ 's/binary/sourced': 'k1' });
    expect(writes[0]!.value.streams).toEqual({});
    writes[0]!.release();
    await first;
    await new Promise((r) => setTimeout(r, 10));
    expect(writes).toHaveLength(2);
    writes[1]!.release();
    await second;
    expect((data.get(PROGRESS_KEY) as SavedProgress).streams).toEqual({ s: 's/content/aa' });
    expect((data.get(PROGRESS_KEY) as SavedProgress).groups).toEqual({ 's/binary/sourced': 'k1' });
  });

  it('resumes the progress of the same backup and sets aside that of another one', async () => {
    const saved: SavedProgress = {
      format: 'coldstore-dispatcher-restore-v1',
      backup: 'backup-a',
      streams: { s: 's/content/bb' },
      groups: { 'g/binary/sourced': 'k9' },
      counts: emptyCounts(),
      skipped: [],
      failures: [],
    };
    const same = await ProgressStore.open(slowState({ [PROGRESS_KEY]: saved }).state, 'backup-a', silent);
    expect(same.saved.groups).toEqual({ 'g/binary/sourced': 'k9' });
    const other = await ProgressStore.open(slowState({ [PROGRESS_KEY]: saved }).state, 'backup-b', silent);
    expect(other.saved.groups).toEqual({});
    expect(other.saved.streams).toEqual({});
    expect(other.saved.backup).toBe('backup-b');
  });

  it('lists the first partial failures once each, and counts outcomes', async () => {
    const store = await ProgressStore.open(slowState().state, 'b', silent);
    store.addFailures([
      { key: 'k', error: 'e', event: 'x' },
      { key: 'k', error: 'e', event: 'x' },
    ]);
    expect(store.saved.failures).toHaveLength(1);
    store.addFailures(Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, error: 'e' })));
    expect(store.saved.failures).toHaveLength(REPORTED_FAILURES);
    const counts = emptyCounts();
    countStream(counts, 'posted');
    countStream(counts, 'bad');
    countBundle(counts, { kind: 'posted', ok: 3, failed: 1 });
    countBundle(counts, { kind: 'filtered', events: 2 });
    countBundle(counts, { kind: 'bad' });
    expect(counts).toEqual({
      streams: { listed: 2, posted: 1, bad: 1 },
      events: { bundles: 3, events_ok: 3, events_failed: 1, bundles_filtered: 1, events_filtered: 2, bad: 1 },
    });
  });
});
