// DurableChain: what preCommit may report for a partition — the end + 1 of the
// longest prefix of durable bundles (docs/delivery-guarantees.md: offsets advance only after the
// bundle is durable).
import { describe, expect, it } from 'vitest';
import { DurableChain } from '../../connectors/backup-sink/durable-chain.js';

describe('DurableChain', () => {
  it('has no position until a first bundle is durable when the start is unknown', () => {
    const chain = new DurableChain(undefined);
    expect(chain.durablePosition).toBeUndefined();
    chain.add(0n, 9n);
    expect(chain.durablePosition).toBeUndefined();
    expect(chain.outstanding).toBe(1);
    chain.markDone(0n);
    expect(chain.durablePosition).toBe(10n);
    expect(chain.outstanding).toBe(0);
  });

  it('reports a given initial position until the bundle after it is durable', () => {
    const chain = new DurableChain(100n);
    expect(chain.durablePosition).toBe(100n);
    chain.add(100n, 149n);
    expect(chain.durablePosition).toBe(100n);
    chain.markDone(100n);
    expect(chain.durablePosition).toBe(150n);
  });

  it('advances only over a prefix of done bundles', () => {
    const chain = new DurableChain(0n);
    chain.add(0n, 9n);
    chain.add(10n, 19n);
    chain.add(20n, 29n);
    chain.markDone(10n);
    chain.markDone(20n);
    // 0..9 is not durable: nothing after it may be reported.
    expect(chain.durablePosition).toBe(0n);
    expect(chain.outstanding).toBe(1);
    chain.markDone(0n);
    expect(chain.durablePosition).toBe(30n);
    expect(chain.outstanding).toBe(0);
  });

  it('handles uploads finishing in any order', () => {
    const chain = new DurableChain(undefined);
    for (const [s, e] of [
      [0n, 9n],
      [10n, 19n],
      [20n, 29n],
      [30n, 39n],
    ] as const) {
      chain.add(s, e);
    }
    const seen: (bigint | undefined)[] = [];
    for (const start of [20n, 0n, 30n, 10n]) {
      chain.markDone(start);
      seen.push(chain.durablePosition);
    }
    expect(seen).toEqual([undefined, 10n, 10n, 40n]);
  });

  it('a bundle added already done advances the position at once only when it is first', () => {
    const chain = new DurableChain(0n);
    chain.add(0n, 9n, true); // e.g. a durable range found in the store at recovery
    expect(chain.durablePosition).toBe(10n);
    chain.add(10n, 19n);
    chain.add(20n, 29n, true);
    expect(chain.durablePosition).toBe(10n);
    expect(chain.outstanding).toBe(1);
    chain.markDone(10n);
    expect(chain.durablePosition).toBe(30n);
  });

  it('ignores add() of a start already registered (keeps the first end and state)', () => {
    const chain = new DurableChain(0n);
    chain.add(0n, 9n);
    chain.add(0n, 99n); // a different end: ignored
    chain.add(0n, 9n, true); // already done? ignored too: only markDone completes it
    expect(chain.outstanding).toBe(1);
    expect(chain.durablePosition).toBe(0n);
    chain.markDone(0n);
    expect(chain.durablePosition).toBe(10n);
    expect(chain.outstanding).toBe(0);
  });

  it('ignores markDone() of a start it does not know', () => {
    const chain = new DurableChain(0n);
    chain.add(0n, 9n);
    chain.markDone(5n);
    chain.markDone(10n);
    expect(chain.durablePosition).toBe(0n);
    expect(chain.outstanding).toBe(1);
  });

  it('does not advance over a bundle that is not durable when it was added after a later one (task.ts: planned ranges first)', () => {
    const chain = new DurableChain(100n);
    chain.add(150n, 199n); // planned range (write-ahead intent), registered by open()
    chain.add(100n, 149n); // normal buffer closed at planned.start - 1, registered by launch()
    chain.markDone(150n);
    expect(chain.durablePosition).toBe(100n);
  });
});
