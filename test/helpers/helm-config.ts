// The chart's worker config as a worker parses it, and the chart tests' skip rule; shared
// by test/unit/helm-chart*.test.ts.
import { expect } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parseWorkerConfig, workerConfigDef } from '../../runtime/config/worker-config.js';
import { container, missingTools, workerConfig } from './helm.js';
import { asArray, asObj, at, type Obj } from './repo-files.js';
import { tmpDir } from './tmp.js';

/**
 * Whether `file` skips its chart tests: its tools are missing outside CI (CI set), where
 * their absence fails the test instead.
 */
export function skipChartTests(file: string): boolean {
  const missing = missingTools();
  const skip = missing.length > 0 && !process.env['CI'];
  if (skip) console.warn(`${file} skipped: ${missing.join(', ')} missing; run bash scripts/setup-helm.sh`);
  return skip;
}

/** The worker config as the worker of pod `pod` parses it: ${env:POD_NAME} and mounted secret files resolved. */
export function parsedFor(manifests: Obj[], pod: string, env: Record<string, string> = {}) {
  const files = tmpDir('helm-secrets');
  const mountPaths = asArray(container(manifests).volumeMounts).map((m) => String(at(m, 'mountPath')));
  const config = JSON.stringify(workerConfig(manifests)).replace(/\$\{file:([^}]+)\}/g, (whole, path: string) => {
    // A file placeholder must name a file of a mounted volume; the test gives it content.
    expect(
      mountPaths.some((m) => path.startsWith(`${m}/`)),
      `${whole} is in a mounted volume`,
    ).toBe(true);
    const local = join(files, path);
    mkdirSync(posix.dirname(local), { recursive: true });
    writeFileSync(local, 'secret-from-file');
    return `\${file:${local}}`;
  });
  const raw = JSON.parse(config) as Record<string, unknown>;
  // rest.metrics.open comes with the worker setting of that name; until this checkout has it, it is checked here.
  if (!('rest.metrics.open' in workerConfigDef.keys)) delete raw['rest.metrics.open'];
  const set = { POD_NAME: pod, ...env };
  const saved = Object.fromEntries(Object.keys(set).map((k) => [k, process.env[k]]));
  Object.assign(process.env, set);
  try {
    return parseWorkerConfig(raw);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

export function probe(manifests: Obj[], kind: string): { path: unknown; port: unknown; scheme: unknown } {
  const get = asObj(at(container(manifests), `${kind}.httpGet`), `${kind} httpGet`);
  return { path: get.path, port: get.port, scheme: get.scheme };
}
