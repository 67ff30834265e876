// LocalObjectStore: the embedded object store (docs/formats.md,
// docs/formats.md "Local filesystem store"), in a temporary directory.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../connectors/common/object-store/local-object-store.js';
import type { ObjectInfo, PutOutcome } from '../../connectors/common/object-store/object-store.js';
import { tmpDir } from '../helpers/tmp.js';

let base: string;
let root: string;
let store: LocalObjectStore;

beforeEach(async () => {
  base = tmpDir('local-store');
  root = join(base, 'root');
  store = new LocalObjectStore(root);
  await store.ensureBucket('b');
});

afterEach(() => {
  rmSync(base, { recursive: true, force: true });
});

async function collect(it: AsyncIterable<ObjectInfo>): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of it) keys.push(o.key);
  return keys;
}

const body = (s: string) => Buffer.from(s, 'utf8');

describe('LocalObjectStore: objects', () => {
  it('putIfAbsent creates the object file and its metadata JSON as docs/formats.md says', async () => {
    const outcome = await store.putIfAbsent('b', 'topic/0/obj', body('hello'), { 'coldstore-records': '3' });
    expect(outcome).toEqual({ created: true });
    expect(readFileSync(join(root, 'b', 'topic', '0', 'obj'), 'utf8')).toBe('hello');
    expect(JSON.parse(readFileSync(join(root, '.coldstore-meta', 'b', 'topic', '0', 'obj.json'), 'utf8'))).toEqual({ 'coldstore-records': '3' });
  });

  it('a second putIfAbsent does not overwrite and returns the first object', async () => {
    await store.putIfAbsent('b', 'k', body('first'), { v: '1' });
    const second = await store.putIfAbsent('b', 'k', body('second!'), { v: '2' });
    expect(second).toEqual({ created: false, existing: { size: 5, metadata: { v: '1' } } });
    expect((await store.get('b', 'k'))?.body.toString()).toBe('first');
    expect((await store.head('b', 'k'))?.metadata).toEqual({ v: '1' });
  });

  it('head, get and delete', async () => {
    expect(await store.head('b', 'k')).toBeUndefined();
    expect(await store.get('b', 'k')).toBeUndefined();
    await store.putIfAbsent('b', 'k', body('abc'), { a: 'x', b: 'y' });
    expect(await store.head('b', 'k')).toEqual({ size: 3, metadata: { a: 'x', b: 'y' } });
    expect(await store.get('b', 'k')).toEqual({ body: body('abc'), metadata: { a: 'x', b: 'y' } });
    await store.delete('b', 'k');
    expect(await store.head('b', 'k')).toBeUndefined();
    expect(await collect(store.list('b', ''))).toEqual([]);
    await store.delete('b', 'k'); // deleting what is gone is fine
    // And the key can be created again, with new metadata.
    expect(await store.putIfAbsent('b', 'k', body('new'), { a: 'z' })).toEqual({ created: true });
    expect(await store.head('b', 'k')).toEqual({ size: 3, metadata: { a: 'z' } });
  });

  it('keeps bytes exactly (binary body)', async () => {
    const bytes = Buffer.from([0, 1, 2, 255, 0x1f, 0x8b, 0, 0]);
    await store.putIfAbsent('b', 'bin', bytes, {});
    expect((await store.get('b', 'bin'))?.body.equals(bytes)).toBe(true);
  });

  it('setLifecycle is not supported', async () => {
    expect(await store.setLifecycle('b', [{ id: 'r', prefix: '', expireAfterDays: 1 }])).toEqual({ supported: false });
  });
});

describe('LocalObjectStore: list', () => {
  beforeEach(async () => {
    for (const key of ['t/1/b', 't/1/a', 't/10/a', 't-x', 't/2/z', 'u/1', 't/1/c/d']) await store.putIfAbsent('b', key, body(key), {});
    await store.ensureBucket('other');
    await store.putIfAbsent('other', 't/1/zz', body('x'), {});
  });

  it('lists every key of the bucket in lexical order with sizes', async () => {
    const all: ObjectInfo[] = [];
    for await (const o of store.list('b', '')) all.push(o);
    expect(all.map((o) => o.key)).toEqual(['t-x', 't/1/a', 't/1/b', 't/1/c/d', 't/10/a', 't/2/z', 'u/1']);
    expect(all.find((o) => o.key === 't/1/c/d')?.size).toBe('t/1/c/d'.length);
  });

  it('filters by prefix (a plain string prefix, not a directory)', async () => {
    expect(await collect(store.list('b', 't/1/'))).toEqual(['t/1/a', 't/1/b', 't/1/c/d']);
    expect(await collect(store.list('b', 't/1'))).toEqual(['t/1/a', 't/1/b', 't/1/c/d', 't/10/a']);
    expect(await collect(store.list('b', 't/1/a'))).toEqual(['t/1/a']);
    expect(await collect(store.list('b', 'nope/'))).toEqual([]);
    expect(await collect(store.list('missing-bucket', ''))).toEqual([]);
  });

  it('lists strictly after startAfter', async () => {
    expect(await collect(store.list('b', 't/1/', 't/1/a'))).toEqual(['t/1/b', 't/1/c/d']);
    expect(await collect(store.list('b', 't/1/', 't/1/b0'))).toEqual(['t/1/c/d']);
    expect(await collect(store.list('b', 't/1/', 't/1/'))).toEqual(['t/1/a', 't/1/b', 't/1/c/d']);
    expect(await collect(store.list('b', '', 't/2/z'))).toEqual(['u/1']);
    expect(await collect(store.list('b', '', 'zzz'))).toEqual([]);
  });

  it('never lists temp files, nor the metadata tree', async () => {
    writeFileSync(join(root, 'b', 't', '1', 'a.tmp-1234-1700000000000'), 'partial');
    mkdirSync(join(root, 'b', 'n'), { recursive: true });
    writeFileSync(join(root, 'b', 'n', 'obj.tmp-99-1'), 'partial');
    const keys = await collect(store.list('b', ''));
    expect(keys).toEqual(['t-x', 't/1/a', 't/1/b', 't/1/c/d', 't/10/a', 't/2/z', 'u/1']);
    expect(keys.some((k) => k.includes('.coldstore-meta') || k.endsWith('.json'))).toBe(false);
  });

  it('refuses (or lists nothing for) a prefix that walks out of the bucket and the root', async () => {
    writeFileSync(join(base, 'secret.txt'), 'not in the store');
    const keys = await collect(store.list('b', '../../')).catch(() => [] as string[]);
    expect(keys).toEqual([]);
  });

  it('refuses an invalid bucket name in list', async () => {
    await expect(collect(store.list('.coldstore-meta', ''))).rejects.toThrow(/Invalid bucket name/);
  });
});

describe('LocalObjectStore: keys and buckets that would escape the root', () => {
  const badKeys = ['../x', 'a/../../x', '/abs', 'a//b', '.', '..', 'a/./b', 'a/', '', 'a\0b'];

  it.each(badKeys)('refuses the key %j in every operation', async (key) => {
    await expect(store.putIfAbsent('b', key, body('x'), {})).rejects.toThrow(/Invalid object key|escapes the store root/);
    await expect(store.head('b', key)).rejects.toThrow(/Invalid object key|escapes the store root/);
    await expect(store.get('b', key)).rejects.toThrow(/Invalid object key|escapes the store root/);
    await expect(store.delete('b', key)).rejects.toThrow(/Invalid object key|escapes the store root/);
  });

  it('writes nothing outside the root for a refused key', async () => {
    await store.putIfAbsent('b', '../escaped', body('x'), {}).catch(() => undefined);
    await store.putIfAbsent('b', 'a/../../../escaped2', body('x'), {}).catch(() => undefined);
    expect(() => readFileSync(join(root, 'escaped'))).toThrow(/ENOENT/);
    expect(() => readFileSync(join(base, 'escaped2'))).toThrow(/ENOENT/);
  });

  it.each(['a/b', '.hidden', '.coldstore-meta', '..', ''])('refuses the bucket name %j', async (bucket) => {
    await expect(store.ensureBucket(bucket)).rejects.toThrow(/Invalid bucket name/);
    await expect(store.putIfAbsent(bucket, 'k', body('x'), {})).rejects.toThrow(/Invalid bucket name|escapes the store root/);
    await expect(store.head(bucket, 'k')).rejects.toThrow(/Invalid bucket name|escapes the store root/);
  });

  it('accepts ordinary nested keys and dots inside names', async () => {
    for (const key of ['a.b/c..d/e.avro.gz', '...x/y', 'x.']) {
      expect(await store.putIfAbsent('b', key, body(key), {}), key).toEqual({ created: true });
    }
    expect(await collect(store.list('b', ''))).toEqual(['...x/y', 'a.b/c..d/e.avro.gz', 'x.']);
  });

  it('does not report a directory made by nested keys as an object', async () => {
    await store.putIfAbsent('b', 'd/e', body('x'), {});
    expect(await store.head('b', 'd')).toBeUndefined();
  });
});

describe('LocalObjectStore: concurrent create-if-absent', () => {
  it('exactly one of 5 concurrent putIfAbsent of the same key creates it', async () => {
    for (let round = 0; round < 10; round++) {
      const key = `race/${round}`;
      const results = await Promise.allSettled([0, 1, 2, 3, 4].map(() => store.putIfAbsent('b', key, body('same bytes'), { v: 'same' })));
      const created = results.filter((r) => r.status === 'fulfilled' && r.value.created);
      expect(created, `round ${round}`).toHaveLength(1);
      expect((await store.get('b', key))?.body.toString()).toBe('same bytes');
    }
  });

  it('keeps body and metadata of the one writer that created the object (5 concurrent writers)', async () => {
    for (let round = 0; round < 20; round++) {
      const key = `race/${round}`;
      const results = await Promise.allSettled(
        [0, 1, 2, 3, 4].map((i) => store.putIfAbsent('b', key, body(`writer ${i} `.repeat(2000)), { writer: String(i) })),
      );
      const outcomes = results.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
      expect(
        outcomes.every((o) => o !== undefined),
        `round ${round}: every call resolves`,
      ).toBe(true);
      const winner = outcomes.findIndex((o) => o?.created);
      expect((await store.get('b', key))?.body.toString(), `round ${round}: body`).toBe(`writer ${winner} `.repeat(2000));
      expect((await store.head('b', key))?.metadata, `round ${round}: metadata`).toEqual({ writer: String(winner) });
      for (const o of outcomes as PutOutcome[]) if (!o.created) expect(o.existing.metadata, `round ${round}: existing`).toEqual({ writer: String(winner) });
    }
  });
});
