/**
 * The nemesis's checker must be able to fail: the ledger against the broker, and a
 * restored topic against its source, on hand-made records.
 */
import { describe, expect, it } from 'vitest';
import { Ledger, ledgerProblems, recordDigest, restoredProblems, type FullRecord } from '../nemesis/ledger.js';

const rec = (partition: number, offset: number, value: string, extra: Partial<FullRecord> = {}): FullRecord => ({
  partition,
  offset: BigInt(offset),
  key: Buffer.from(`k-${value}`),
  value: Buffer.from(value),
  timestamp: 1_000n + BigInt(offset),
  headers: [],
  ...extra,
});

function ledgerOf(records: FullRecord[], fate: 'acknowledged' | 'aborted' | 'uncertain' = 'acknowledged'): Ledger {
  const ledger = new Ledger();
  for (const r of records) ledger.note('t', { partition: r.partition, offset: r.offset, digest: recordDigest(r.key, r.value), fate });
  return ledger;
}

describe('the nemesis ledger', () => {
  it('agrees with a broker holding exactly what was acknowledged', () => {
    const sent = [rec(0, 0, 'a'), rec(0, 1, 'b'), rec(1, 0, 'c')];
    expect(ledgerProblems(ledgerOf(sent), 't', sent)).toEqual([]);
  });

  it('finds an acknowledged record missing or changed, an aborted one visible, a record nobody sent', () => {
    const sent = [rec(0, 0, 'a'), rec(0, 1, 'b')];
    expect(ledgerProblems(ledgerOf(sent), 't', [sent[0]!])).toEqual([expect.stringContaining('0/1: acknowledged, but the broker has nothing')]);
    expect(ledgerProblems(ledgerOf(sent), 't', [sent[0]!, rec(0, 1, 'x')])[0]).toMatch(/0\/1: acknowledged, but the broker holds other bytes/);
    expect(ledgerProblems(ledgerOf(sent, 'aborted'), 't', sent)[0]).toMatch(/aborted, yet read_committed sees it/);
    expect(ledgerProblems(ledgerOf(sent), 't', [...sent, rec(0, 2, 'z')])).toEqual([expect.stringContaining('1 records nobody sent')]);
  });

  it('lets uncertain records be there or not, and as many unknown records as sends failed unplaced', () => {
    const sent = [rec(0, 0, 'a'), rec(0, 1, 'b')];
    expect(ledgerProblems(ledgerOf(sent, 'uncertain'), 't', [])).toEqual([]);
    const ledger = ledgerOf(sent);
    ledger.unplacedSend('t');
    expect(ledgerProblems(ledger, 't', [...sent, rec(0, 2, 'z')])).toEqual([]);
    expect(ledgerProblems(ledger, 't', [...sent, rec(0, 2, 'z'), rec(0, 3, 'y')])).toHaveLength(1);
  });
});

describe('a restored topic against its source', () => {
  const source = [rec(0, 0, 'a'), rec(0, 1, 'a'), rec(0, 2, 'b'), rec(1, 0, 'c')];
  // Restored records get new offsets; only their order within a partition matters.
  const restored = (records: FullRecord[]) => records.map((r, i) => ({ ...r, offset: BigInt(100 + i) }));

  it('accepts the same records in the same order, repeated ones included', () => {
    expect(restoredProblems(source, restored(source), 2)).toEqual({ lost: 0, duplicated: 0, outOfOrder: 0, problems: [] });
  });

  it('counts a lost record, a duplicated one, and a partition out of order', () => {
    expect(restoredProblems(source, restored([source[0]!, source[2]!, source[3]!]), 2)).toMatchObject({ lost: 1, duplicated: 0 });
    expect(restoredProblems(source, restored([...source, source[2]!]), 2)).toMatchObject({ lost: 0, duplicated: 1 });
    expect(restoredProblems(source, restored([source[2]!, source[0]!, source[1]!, source[3]!]), 2)).toMatchObject({ outOfOrder: 1 });
  });

  it('tells records apart by timestamp and headers too', () => {
    const changed = [{ ...source[0]!, timestamp: 5n }, ...source.slice(1)];
    expect(restoredProblems(source, restored(changed), 2)).toMatchObject({ lost: 1, duplicated: 1 });
    const headed = [{ ...source[0]!, headers: [{ key: 'h', value: null }] }, ...source.slice(1)];
    expect(restoredProblems(source, restored(headed), 2).problems).toHaveLength(1);
  });
});
