import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../runtime/api/errors.js';
import { configDocs } from '../../app/cli/config-docs.js';

describe('docs stay in sync with the code', () => {
  it('docs/configuration.md is what `coldstore docs config` generates', () => {
    expect(readFileSync('docs/configuration.md', 'utf8')).toBe(configDocs());
  });

  it('docs/errors.md lists every error code, and no code that does not exist', () => {
    const doc = readFileSync('docs/errors.md', 'utf8');
    const documented = [...doc.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.values(ErrorCodes).sort());
  });
});
