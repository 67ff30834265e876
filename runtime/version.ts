import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: two levels above this file, whether it runs from the sources or from dist/. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    try {
      readFileSync(join(dir, 'package.json'));
      return dir;
    } catch {
      dir = dirname(dir);
    }
  }
  return dir;
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return fallback;
  }
}

const root = packageRoot();

export const VERSION: string = (JSON.parse(readOr(join(root, 'package.json'), '{}')) as { version?: string }).version ?? '0.0.0';

/** The git commit the worker was built from: COLDSTORE_COMMIT, else the checkout's HEAD, else "unknown". */
export function commitId(): string {
  if (process.env['COLDSTORE_COMMIT']) return process.env['COLDSTORE_COMMIT'];
  const head = readOr(join(root, '.git', 'HEAD'), '');
  if (head.startsWith('ref: ')) return readOr(join(root, '.git', head.slice(5)), 'unknown');
  return head || 'unknown';
}
