import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeInterruptedPuts } from '../stack/stack.js';

describe('removeInterruptedPuts', () => {
  it("removes only S3Proxy's '<key>-<uuid>' files, at any depth", () => {
    const data = mkdtempSync(join(tmpdir(), 's3data-'));
    const partition = join(data, 'bucket', 'topic', '0');
    mkdirSync(partition, { recursive: true });
    const bundle = '00000000000000000900-00000000000000000999.avro.gz';
    const left = `${bundle}-58f955d8-2550-4bf3-973d-522b7f618c57`;
    writeFileSync(join(partition, bundle), 'kept');
    writeFileSync(join(partition, left), 'partial');
    writeFileSync(join(data, 'bucket', 'src-2021-03-29T03:24:08Z-4-ab3808f6'), 'kept');

    const removed = removeInterruptedPuts(data);

    expect(removed).toEqual([join(partition, left)]);
    expect(readdirSync(partition)).toEqual([bundle]);
    expect(readdirSync(join(data, 'bucket')).sort()).toEqual(['src-2021-03-29T03:24:08Z-4-ab3808f6', 'topic']);
  });

  it('does nothing for a data directory that does not exist yet', () => {
    expect(removeInterruptedPuts(join(tmpdir(), 'no-such-s3-data-dir'))).toEqual([]);
  });
});
