// The Helm chart's tools (installed into .tools/ by scripts/setup-helm.sh) and its
// rendered manifests, parsed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ROOT, asArray, asObj, at, isObj, type Obj } from './repo-files.js';

export const HELM = join(ROOT, '.tools/bin/helm');
export const KUBERNETES_VALIDATE = join(ROOT, '.tools/venv/bin/kubernetes-validate');
export const CHART = join(ROOT, 'deploy/helm/coldstore');
export const CLUSTER_VALUES = join(CHART, 'ci/cluster-values.yaml');

export const missingTools = (): string[] => [HELM, KUBERNETES_VALIDATE].filter((p) => !existsSync(p));

export interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

export function run(command: string, args: string[]): Run {
  const r = spawnSync(command, args, { encoding: 'utf8', cwd: ROOT });
  if (r.error) throw r.error;
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

export const RELEASE = 't';
export const NAMESPACE = 'prod';

/** `helm template` of the chart; `args` adds values (-f, --set). */
export function template(args: string[] = []): Run {
  return run(HELM, ['template', RELEASE, CHART, '--namespace', NAMESPACE, ...args]);
}

/** The manifests `helm template` renders, which must succeed. */
export function render(args: string[] = []): Obj[] {
  const r = template(args);
  if (r.status !== 0) throw new Error(`helm template ${args.join(' ')} failed: ${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJSON() as unknown)
    .filter(isObj);
}

export function one(manifests: Obj[], kind: string, name?: string): Obj {
  const found = manifests.filter((m) => m.kind === kind && (name === undefined || at(m, 'metadata.name') === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0] as Obj;
}

export const kinds = (manifests: Obj[]): string[] => manifests.map((m) => String(m.kind)).sort();

/** The worker container of the StatefulSet. */
export function container(manifests: Obj[]): Obj {
  const containers = asArray(at(one(manifests, 'StatefulSet'), 'spec.template.spec.containers'));
  return asObj(
    containers.find((c) => isObj(c) && c.name === 'worker'),
    'worker container',
  );
}

/** The worker config the ConfigMap holds, as the worker reads it. */
export function workerConfig(manifests: Obj[]): Record<string, unknown> {
  const data = asObj(one(manifests, 'ConfigMap').data, 'ConfigMap data');
  return asObj(JSON.parse(String(data['worker.json'])), 'worker.json');
}

/** Whether every label of `selector` is on `labels`. */
export const selects = (selector: unknown, labels: unknown): boolean =>
  isObj(selector) && isObj(labels) && Object.entries(selector).every(([k, v]) => labels[k] === v);
