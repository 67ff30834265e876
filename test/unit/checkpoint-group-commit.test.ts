import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

const replacements = vi.hoisted(() => ({ count: 0, failNext: false }));
vi.mock('../../runtime/storage/atomic-file.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../runtime/storage/atomic-file.js')>();
  return {
    ...original,
    writeFileAtomic: async (path: string, data: string | Buffer) => {
      replacements.count++;
      if (replacements.failNext) {
        replacements.failNext = false;
        throw new Error('disk full (injected)');
      }
      return original.writeFileAtomic(path, data);
    },
  };
});

const { FileCheckpointStore } = await import('../../runtime/storage/file-checkpoint-store.js');

describe('FileCheckpointStore group commit', () => {
  it('merges writes that arrive while one is in flight, each caller returning once its change is durable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-group-'));
    const store = new FileCheckpointStore(dir);
    replacements.count = 0;
    const order: number[] = [];
    await Promise.all(Array.from({ length: 100 }, (_, i) => store.write('ns', { [`k${i}`]: i, last: i }).then(() => order.push(i))));
    // The first write goes alone; the 99 made while it was in flight share the next replacement.
    expect(replacements.count).toBe(2);
    expect(order).toHaveLength(100);
    const reread = await new FileCheckpointStore(dir).read('ns');
    expect(Object.keys(reread)).toHaveLength(101);
    expect(reread['last']).toBe(99);
  });

  it('applies a drop and later writes in order within one batch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-group-'));
    const store = new FileCheckpointStore(dir);
    await store.write('ns', { old: 1 });
    await Promise.all([store.write('ns', { a: 1 }), store.drop('ns'), store.write('ns', { b: 2 })]);
    expect(await new FileCheckpointStore(dir).read('ns')).toEqual({ b: 2 });
    await Promise.all([store.write('ns', { c: 3 }), store.drop('ns')]);
    expect(await new FileCheckpointStore(dir).read('ns')).toEqual({});
  });

  it('fails only the callers of a batch that cannot be written, and keeps working afterwards', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-group-'));
    const store = new FileCheckpointStore(dir);
    await store.write('ns', { kept: 1 });
    replacements.failNext = true;
    await expect(store.write('ns', { lost: 1 })).rejects.toThrow('disk full (injected)');
    await store.write('ns', { later: 2 });
    expect(await new FileCheckpointStore(dir).read('ns')).toEqual({ kept: 1, later: 2 });
  });
});
