import { describe, expect, it } from 'vitest';
import { KeyTurns } from '../../connectors/backup-sink/azul/key-turns.js';

const state = async (p: Promise<void>) => {
  let result = 'pending';
  p.then(
    () => (result = 'ready'),
    () => (result = 'failed'),
  );
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return result;
};

describe('KeyTurns', () => {
  it('a write waits for every earlier write of its key, in the order they were queued; other keys do not wait', async () => {
    const turns = new KeyTurns();
    const first = turns.take('k', 't/0');
    const second = turns.take('k', 't/0');
    const third = turns.take('k', 't/1');
    const other = turns.take('other', 't/0');
    expect(await state(first.ready)).toBe('ready');
    expect(await state(other.ready)).toBe('ready');
    expect(await state(second.ready)).toBe('pending');
    first.done();
    expect(await state(second.ready)).toBe('ready');
    expect(await state(third.ready)).toBe('pending');
    second.done();
    expect(await state(third.ready)).toBe('ready');
  });

  it("an earlier write that failed fails the later ones of its partition, not another partition's", async () => {
    const turns = new KeyTurns();
    const first = turns.take('k', 't/0');
    const samePartition = turns.take('k', 't/0');
    const otherPartition = turns.take('k', 't/1');
    first.failed(new Error('abandoned'));
    await expect(samePartition.ready).rejects.toThrow('abandoned');
    samePartition.failed(new Error('abandoned'));
    expect(await state(otherPartition.ready)).toBe('ready');
    // The queue is empty once every write ended: a new write does not wait.
    otherPartition.done();
    expect(await state(turns.take('k', 't/0').ready)).toBe('ready');
  });
});
