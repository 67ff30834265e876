/** A reported figure: coldstore's median against its baseline's, their ratio and the target it is held to. */
import { median, ratio } from './stats.js';

export interface Measure {
  median: number;
  runs: number[];
}

export interface Target {
  /** What the target applies to: the ratio coldstore/baseline, or coldstore's value itself. */
  of: 'ratio' | 'value';
  op: '>=' | '<=';
  value: number;
}

/** A second baseline: the least the same job can cost, which coldstore is held to as well. */
export interface Floor extends Measure {
  label: string;
  /** Ratio of the medians, coldstore / floor. */
  ratio: number;
  target?: Target;
  pass?: boolean;
}

export interface Figure {
  id: string;
  title: string;
  unit: string;
  coldstore?: Measure;
  baseline?: Measure & { label: string };
  /** Ratio of the medians, coldstore / baseline. */
  ratio?: number;
  target?: Target;
  /** undefined when there is no target or no value to hold to it. */
  pass?: boolean;
  floor?: Floor;
  /** Shown beside the values in the table, e.g. records/s. */
  note?: string;
  error?: string;
  /** Every run's raw values. */
  details?: unknown;
}

export function measure(runs: number[]): Measure {
  return { median: median(runs), runs };
}

export function floorOf(coldstore: Measure, floor: Measure, label: string, target?: Target): Floor {
  const r = ratio(coldstore.median, floor.median);
  return { ...floor, label, ratio: r, ...(target ? { target, pass: evaluate(target, coldstore.median, r) } : {}) };
}

export function evaluate(target: Target | undefined, value: number | undefined, r: number | undefined): boolean | undefined {
  if (!target) return undefined;
  const x = target.of === 'ratio' ? r : value;
  if (x === undefined || !Number.isFinite(x)) return undefined;
  return target.op === '>=' ? x >= target.value : x <= target.value;
}

export function figure(f: Omit<Figure, 'ratio' | 'pass'> & { ratio?: number }): Figure {
  const r = f.ratio ?? (f.coldstore && f.baseline ? ratio(f.coldstore.median, f.baseline.median) : undefined);
  return { ...f, ...(r !== undefined ? { ratio: r } : {}), pass: evaluate(f.target, f.coldstore?.median, r) };
}

export function targetText(t: Target | undefined, unit: string): string {
  if (!t) return '';
  return t.of === 'ratio' ? `${t.op} ${t.value}×` : `${t.op} ${t.value} ${unit}`;
}
