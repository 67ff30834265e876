import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileCheckpointStore } from '../../runtime/storage/file-checkpoint-store.js';

function freshDir(): string {
  return mkdtempSync(join(tmpdir(), 'cs-store-'));
}

describe('FileCheckpointStore', () => {
  it('persists writes across instances and deletes with null', async () => {
    const dir = freshDir();
    const a = new FileCheckpointStore(dir);
    await a.write('sink-offsets/c1', { 't/0': '5', 't/1': '7' });
    await a.write('sink-offsets/c1', { 't/0': '9', 't/1': null });
    const b = new FileCheckpointStore(dir);
    expect(await b.read('sink-offsets/c1')).toEqual({ 't/0': '9' });
    expect(await b.list('sink-offsets/')).toEqual(['sink-offsets/c1']);
  });

  it('keeps concurrent writes to one namespace in order without losing any', async () => {
    const dir = freshDir();
    const store = new FileCheckpointStore(dir);
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.write('ns', { [`k${i}`]: i, last: i })));
    const reread = await new FileCheckpointStore(dir).read('ns');
    expect(Object.keys(reread)).toHaveLength(51);
    expect(reread['last']).toBe(49);
  });

  it('leaves no temp files and writes valid JSON', async () => {
    const dir = freshDir();
    const store = new FileCheckpointStore(dir);
    await store.write('a/b', { x: 1 });
    const files = readdirSync(join(dir, 'checkpoints'));
    expect(files).toEqual(['a%2Fb.json']);
    expect(JSON.parse(readFileSync(join(dir, 'checkpoints', files[0]!), 'utf8'))).toEqual({ x: 1 });
  });

  it('reports a corrupt file with its path instead of treating it as empty', async () => {
    const dir = freshDir();
    const store = new FileCheckpointStore(dir);
    await store.write('ns', { x: 1 });
    writeFileSync(join(dir, 'checkpoints', 'ns.json'), '{broken');
    await expect(new FileCheckpointStore(dir).read('ns')).rejects.toThrow(/ns\.json is not valid JSON/);
  });

  it('drops namespaces', async () => {
    const dir = freshDir();
    const store = new FileCheckpointStore(dir);
    await store.write('task-state/c/0', { x: 1 });
    await store.drop('task-state/c/0');
    expect(await new FileCheckpointStore(dir).read('task-state/c/0')).toEqual({});
  });
});
