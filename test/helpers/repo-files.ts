// Reading the repository's deployment files (compose, Dockerfile, Helm output) in tests
// that check them by parsing, where no Docker engine or cluster can run them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const read = (rel: string): string => readFileSync(join(ROOT, rel), 'utf8');

export type Obj = Record<string, unknown>;

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function asObj(v: unknown, what: string): Obj {
  if (!isObj(v)) throw new Error(`${what} is not a mapping`);
  return v;
}

export function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** A value at a dotted path of plain keys (`spec.template.spec`), or undefined. */
export function at(v: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (isObj(o) ? o[k] : Array.isArray(o) && /^\d+$/.test(k) ? o[Number(k)] : undefined), v);
}

/** An image reference pinned to one exact release: `name:1.2.3`, `name:v1.2.3`, `name:s3proxy-1.2.3`, `name:1.2.3-trixie-slim`. */
export const EXACT_IMAGE = /^[a-z0-9][a-z0-9._/-]*:(?:[a-z][a-z0-9]*-)?v?\d+\.\d+\.\d+(?:-[a-z0-9.-]+)?$/;

export interface Instruction {
  instr: string;
  args: string;
}

/** The Dockerfile's stages (from each FROM), instructions with continuation lines joined. */
export function dockerfileStages(text = read('Dockerfile')): Instruction[][] {
  const parsed = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l): Instruction => {
      const m = /^(\S+)\s*(.*)$/.exec(l);
      return { instr: (m?.[1] ?? '').toUpperCase(), args: m?.[2] ?? '' };
    });
  const stages: Instruction[][] = [];
  for (const p of parsed) {
    if (p.instr === 'FROM') stages.push([]);
    stages[stages.length - 1]?.push(p);
  }
  if (stages.length === 0) throw new Error('Dockerfile has no FROM');
  return stages;
}

/** The last `name` instruction of the Dockerfile's final stage. */
export function finalInstruction(name: string): string {
  const stages = dockerfileStages();
  const found = (stages[stages.length - 1] ?? []).filter((p) => p.instr === name);
  const last = found[found.length - 1];
  if (!last) throw new Error(`Dockerfile's final stage has no ${name}`);
  return last.args;
}
