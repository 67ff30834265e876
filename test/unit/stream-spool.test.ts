import { mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StreamSpool } from '../../connectors/backup-sink/azul/stream-spool.js';

const ref = { source: 'src', label: 'content', sha256: 'a'.repeat(64) };

describe('StreamSpool', () => {
  it('takes concurrent failures of one stream (two tasks, or a retry beside a new range) without losing the entry', async () => {
    const spool = new StreamSpool(mkdtempSync(join(tmpdir(), 'spool-')));
    await Promise.all(Array.from({ length: 20 }, (_, i) => spool.add(ref, `failure ${i}`)));
    const entries = await spool.entries();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ ...ref });
    expect(entries[0]!.attempts).toBeGreaterThanOrEqual(1);
  });

  it('keeps a failure across instances, counts attempts, and forgets it once removed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-'));
    await new StreamSpool(dir).add(ref, 'first');
    await new StreamSpool(dir).add(ref, 'second');
    const [entry] = await new StreamSpool(dir).entries();
    expect(entry).toMatchObject({ attempts: 2, lastError: 'second' });
    await new StreamSpool(dir).remove(ref);
    expect(await new StreamSpool(dir).entries()).toEqual([]);
  });

  it('removes temp files a killed process left behind, and only old ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-'));
    const old = join(dir, `${ref.sha256}.src.content.json.tmp-123-1`);
    const fresh = join(dir, `${ref.sha256}.src.content.json.tmp-123-2`);
    writeFileSync(old, '{"half');
    writeFileSync(fresh, '{"half');
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(old, hourAgo, hourAgo);
    expect(await new StreamSpool(dir).entries()).toEqual([]);
    expect(readdirSync(dir)).toEqual([`${ref.sha256}.src.content.json.tmp-123-2`]);
  });

  it('an empty or missing directory has no entries', async () => {
    expect(await new StreamSpool(join(tmpdir(), 'spool-never-created-xyz')).entries()).toEqual([]);
  });
});
