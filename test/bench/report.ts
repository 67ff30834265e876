/** The bench's output: a table on stdout and, with --json, a file with everything measured. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { targetText, type Figure } from './figures.js';
import type { Machine } from './machine.js';
import type { BenchOptions } from './options.js';

function value(x: number | undefined, unit: string): string {
  if (x === undefined || !Number.isFinite(x)) return '—';
  const digits = unit === 'MiB' ? 0 : unit === 's' ? 1 : 1;
  return `${x.toFixed(digits)} ${unit}`;
}

function result(f: Figure): string {
  if (f.error && f.pass === undefined) return 'error';
  if (f.pass === undefined) return '—';
  return f.pass ? 'pass' : 'FAIL';
}

function ratioText(r: number | undefined): string {
  return r !== undefined && Number.isFinite(r) ? `${r.toFixed(2)}×` : '—';
}

/** The floor's value, and coldstore against it with its own target and result. */
function floorCells(f: Figure): string[] {
  const floor = f.floor;
  if (!floor) return ['—', '—'];
  const held = floor.target ? ` (${targetText(floor.target, f.unit)}: ${floor.pass === undefined ? '—' : floor.pass ? 'pass' : 'FAIL'})` : '';
  return [`${value(floor.median, f.unit)} (${floor.label})`, `${ratioText(floor.ratio)}${held}`];
}

/** The floor columns appear only when some figure has a floor (the backup cases). */
export function table(figures: readonly Figure[]): string {
  const withFloor = figures.some((f) => f.floor);
  const header = ['figure', 'coldstore', 'baseline', 'ratio', 'target', 'result', ...(withFloor ? ['floor', 'vs floor'] : []), 'notes'];
  const rows = figures.map((f) => [
    f.title,
    value(f.coldstore?.median, f.unit),
    f.baseline ? `${value(f.baseline.median, f.unit)} (${f.baseline.label})` : '—',
    ratioText(f.ratio),
    targetText(f.target, f.unit),
    result(f),
    ...(withFloor ? floorCells(f) : []),
    [f.note, f.error ? `error: ${f.error.split('\n')[0]!.slice(0, 160)}` : undefined].filter(Boolean).join('; '),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

export interface Report {
  startedAt: string;
  durationSeconds: number;
  options: BenchOptions;
  plan: unknown;
  machine: Machine;
  figures: Figure[];
  errors: string[];
  profile?: unknown;
}

export function writeJson(path: string, report: Report): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(
    path,
    `${JSON.stringify(report, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`,
  );
}
