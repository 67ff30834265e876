import { describe, expect, it } from 'vitest';
import { EMPTY_ASSIGNMENT, balance, nextAssignment, sameAssignment, taskUnit } from '../../runtime/cluster/assignor.js';

const tasks = (connector: string, n: number) => Array.from({ length: n }, (_, i) => taskUnit(connector, i));

function loads(assignment: Record<string, string>, workers: string[]): Map<string, number> {
  const result = new Map<string, number>([...new Set(workers)].map((w) => [w, 0]));
  for (const worker of Object.values(assignment)) result.set(worker, (result.get(worker) ?? 0) + 1);
  return result;
}

function moved(before: Record<string, string>, after: Record<string, string>): string[] {
  return Object.keys(after).filter((unit) => before[unit] !== undefined && before[unit] !== after[unit]);
}

/** mulberry32: a small seeded PRNG, so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('balance (sticky assignor)', () => {
  it('spreads 6 tasks 2/2/2 over 3 workers from an empty start, assigning every unit', () => {
    const units = tasks('c', 6);
    const result = balance({}, units, ['w1', 'w2', 'w3']);
    expect(Object.keys(result).sort()).toEqual([...units].sort());
    expect([...loads(result, ['w1', 'w2', 'w3']).values()]).toEqual([2, 2, 2]);
  });

  it('returns {} when there are no workers', () => {
    expect(balance({}, tasks('c', 4), [])).toEqual({});
    expect(balance({ 'c/0': 'gone' }, ['c/0'], [])).toEqual({});
  });

  it('returns {} for no units and drops units that no longer exist', () => {
    expect(balance({}, [], ['w1'])).toEqual({});
    expect(balance({ 'c/0': 'w1', 'old/0': 'w1' }, ['c/0'], ['w1'])).toEqual({ 'c/0': 'w1' });
  });

  it('deduplicates worker ids', () => {
    const result = balance({}, tasks('c', 4), ['w1', 'w1', 'w2', 'w2', 'w1']);
    const counts = loads(result, ['w1', 'w2']);
    expect(counts.size).toBe(2);
    expect(counts.get('w1')).toBe(2);
    expect(counts.get('w2')).toBe(2);
  });

  it('is deterministic: same inputs in any order give the same output', () => {
    const units = tasks('a', 5).concat(tasks('b', 4));
    const previous = { 'a/0': 'w2', 'a/1': 'w2', 'a/2': 'w2', 'b/3': 'w9' };
    const first = balance(previous, units, ['w1', 'w2', 'w3']);
    const second = balance(previous, [...units].reverse(), ['w3', 'w1', 'w2']);
    expect(second).toEqual(first);
    expect(balance(previous, units, ['w1', 'w2', 'w3'])).toEqual(first);
  });

  it('a worker joining moves only the excess: the minimal number of units, all to the new worker', () => {
    const units = tasks('c', 6);
    const before = balance({}, units, ['w1', 'w2']);
    expect([...loads(before, ['w1', 'w2']).values()]).toEqual([3, 3]);
    const after = balance(before, units, ['w1', 'w2', 'w3']);
    const changed = moved(before, after);
    // 2 each is the target; w1 and w2 each give up exactly one.
    expect(changed).toHaveLength(2);
    for (const unit of changed) expect(after[unit]).toBe('w3');
    expect([...loads(after, ['w1', 'w2', 'w3']).values()]).toEqual([2, 2, 2]);
  });

  it('a worker joining with an uneven count still moves only floor(n / workers) units', () => {
    const units = tasks('c', 7);
    const before = balance({}, units, ['w1', 'w2']); // 4/3
    const after = balance(before, units, ['w1', 'w2', 'w3']); // target 3/2/2 in some order
    expect(moved(before, after)).toHaveLength(2);
    const sizes = [...loads(after, ['w1', 'w2', 'w3']).values()].sort();
    expect(sizes).toEqual([2, 2, 3]);
  });

  it('a worker leaving moves only its own units', () => {
    const units = tasks('c', 9);
    const before = balance({}, units, ['w1', 'w2', 'w3']);
    const w2Units = Object.keys(before).filter((u) => before[u] === 'w2');
    expect(w2Units).toHaveLength(3);
    const after = balance(before, units, ['w1', 'w3']);
    expect(moved(before, after).sort()).toEqual(w2Units.sort());
    expect(Object.values(after)).not.toContain('w2');
    const sizes = [...loads(after, ['w1', 'w3']).values()].sort();
    expect(sizes).toEqual([4, 5]);
  });

  it('keeps a balanced assignment exactly as it is', () => {
    const units = tasks('c', 5);
    const before = balance({}, units, ['a', 'b', 'c']);
    expect(balance(before, units, ['a', 'b', 'c'])).toEqual(before);
  });

  it('balance of loads differs by at most 1 and stickiness holds for 200 random cases', () => {
    const random = prng(0xc01d5);
    const int = (n: number) => Math.floor(random() * n);
    for (let i = 0; i < 200; i++) {
      const pool = Array.from({ length: 1 + int(8) }, (_, k) => `w${k}`);
      const workers = pool.filter(() => random() < 0.7);
      if (workers.length === 0) workers.push(pool[0]!);
      const units = Array.from({ length: int(40) }, (_, k) => `u${k}`);
      const previous: Record<string, string> = {};
      for (const unit of units) if (random() < 0.8) previous[unit] = pool[int(pool.length)]!;
      const context = JSON.stringify({ i, workers, units: units.length, previous });

      const result = balance(previous, units, workers);
      expect(Object.keys(result).sort(), context).toEqual([...units].sort());
      for (const worker of Object.values(result)) expect(workers, context).toContain(worker);
      const sizes = [...loads(result, workers).values()];
      expect(Math.max(...sizes) - Math.min(...sizes), context).toBeLessThanOrEqual(1);

      // Stickiness: a unit moves only if its owner left, or its owner holds more than its fair share.
      const live = new Set(workers);
      const floor = Math.floor(units.length / live.size);
      const prevLoad = new Map<string, number>();
      for (const unit of units) {
        const owner = previous[unit];
        if (owner && live.has(owner)) prevLoad.set(owner, (prevLoad.get(owner) ?? 0) + 1);
      }
      for (const unit of moved(previous, result)) {
        const owner = previous[unit]!;
        if (live.has(owner)) expect(prevLoad.get(owner)!, `${context} moved ${unit}`).toBeGreaterThan(floor);
      }
      // Minimality: units that stay are at least sum over live owners of min(prevLoad, cap) with cap >= floor.
      let mustStay = 0;
      for (const count of prevLoad.values()) mustStay += Math.min(count, floor);
      const stayed = units.filter((u) => previous[u] !== undefined && previous[u] === result[u]).length;
      expect(stayed, context).toBeGreaterThanOrEqual(mustStay);

      // Deterministic.
      expect(balance(previous, [...units].reverse(), [...workers].reverse()), context).toEqual(result);
    }
  });
});

describe('nextAssignment and sameAssignment', () => {
  it('balances connectors and tasks separately, bumps the generation and sorts workers', () => {
    const next = nextAssignment(EMPTY_ASSIGNMENT, 'w2', ['w2', 'w1'], ['a', 'b'], [...tasks('a', 2), ...tasks('b', 2)]);
    expect(next.generation).toBe(1);
    expect(next.leader).toBe('w2');
    expect(next.workers).toEqual(['w1', 'w2']);
    expect([...loads(next.connectors, ['w1', 'w2']).values()]).toEqual([1, 1]);
    expect([...loads(next.tasks, ['w1', 'w2']).values()]).toEqual([2, 2]);
  });

  it('balances tasks on their own even when connectors all sit on one worker', () => {
    const previous = { ...EMPTY_ASSIGNMENT, generation: 4, workers: ['w1'], connectors: { a: 'w1' }, tasks: { 'a/0': 'w1', 'a/1': 'w1' } };
    const next = nextAssignment(previous, 'w1', ['w1', 'w2'], ['a'], tasks('a', 2));
    expect(next.generation).toBe(5);
    expect(next.connectors).toEqual({ a: 'w1' });
    expect(new Set(Object.values(next.tasks))).toEqual(new Set(['w1', 'w2']));
  });

  it('sameAssignment ignores generation and leader but sees any move or worker change', () => {
    const a = nextAssignment(EMPTY_ASSIGNMENT, 'w1', ['w1', 'w2'], ['x'], tasks('x', 2));
    expect(sameAssignment(a, { ...a, generation: 99, leader: 'w2' } as typeof a)).toBe(true);
    expect(sameAssignment(a, { workers: a.workers, connectors: { ...a.connectors }, tasks: { ...a.tasks } })).toBe(true);
    const other = a.tasks['x/0'] === 'w1' ? 'w2' : 'w1';
    expect(sameAssignment(a, { workers: a.workers, connectors: a.connectors, tasks: { ...a.tasks, 'x/0': other } })).toBe(false);
    expect(sameAssignment(a, { workers: ['w1', 'w2', 'w3'], connectors: a.connectors, tasks: a.tasks })).toBe(false);
    expect(sameAssignment(a, { workers: a.workers, connectors: a.connectors, tasks: { ...a.tasks, 'x/9': 'w1' } })).toBe(false);
    expect(sameAssignment(a, { workers: a.workers, connectors: {}, tasks: a.tasks })).toBe(false);
  });
});
