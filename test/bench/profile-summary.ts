/**
 * Summarises V8 .cpuprofile files (node --cpu-prof): where the main thread's time goes,
 * by self time per function, plus idle, GC and native ("(program)") time.
 *
 *   npx tsx test/bench/profile-summary.ts <file.cpuprofile | dir> [--top 25]
 *
 * Only the main JavaScript thread is sampled: work on libuv's threadpool (zlib) and
 * librdkafka's threads shows up as idle time here, not as their own entries.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface FunctionTime {
  name: string;
  location: string;
  selfMs: number;
  selfPercent: number;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  idleMs: number;
  gcMs: number;
  programMs: number;
  /** Everything but idle: the time the main thread was busy. */
  busyMs: number;
  top: FunctionTime[];
  /** coldstore's own functions (runtime/, connectors/) by total time: their own plus everything they called synchronously. */
  topInclusive: FunctionTime[];
  /** Self time grouped by where the code lives (runtime/, connectors/, node:*, node_modules/<pkg>). */
  byArea: { area: string; selfMs: number; selfPercent: number }[];
}

const REPO = resolve(import.meta.dirname, '../..');

function shortUrl(url: string): string {
  if (!url) return '';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  return path.startsWith('/') ? relative(REPO, path) : path;
}

function areaOf(url: string, name: string): string {
  if (name === '(idle)' || name === '(garbage collector)' || name === '(program)' || name === '(root)') return name;
  const u = shortUrl(url);
  if (!u) return '(native/builtin)';
  if (u.startsWith('node:')) return 'node core';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u);
  if (pkg) return pkg[1]!;
  const top = /^dist\/([^/]+\/[^/]+)/.exec(u) ?? /^([^/]+\/[^/]+)/.exec(u);
  return top ? top[1]! : u;
}

export function summarizeProfile(file: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  // timeDeltas[i] is the time before sample i; attribute each interval to the sample that ends it.
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, profile.timeDeltas[i] ?? 0));
  }
  const perFunction = new Map<string, { name: string; location: string; us: number; url: string }>();
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    totalUs += us;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    const location = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
    const key = `${name}@${location}`;
    const entry = perFunction.get(key) ?? { name, location, us: 0, url };
    entry.us += us;
    perFunction.set(key, entry);
  }
  // Inclusive time: each sample counts once for every distinct function on its stack.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map<string, { name: string; location: string; us: number }>();
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = Math.max(0, profile.timeDeltas[i] ?? 0);
    const seen = new Set<string>();
    for (let id: number | undefined = profile.samples[i]; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)?.callFrame;
      if (!frame || !/\/(runtime|connectors)\//.test(frame.url)) continue;
      const location = `${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
      const key = `${frame.functionName}@${location}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const entry = inclusive.get(key) ?? { name: frame.functionName || '(anonymous)', location, us: 0 };
      entry.us += delta;
      inclusive.set(key, entry);
    }
  }
  const ms = (us: number) => Math.round(us / 100) / 10;
  const pct = (us: number) => (totalUs > 0 ? Math.round((us / totalUs) * 1000) / 10 : 0);
  const special = (n: string) => [...perFunction.values()].filter((f) => f.name === n).reduce((s, f) => s + f.us, 0);
  const idle = special('(idle)');
  const areas = new Map<string, number>();
  for (const f of perFunction.values()) areas.set(areaOf(f.url, f.name), (areas.get(areaOf(f.url, f.name)) ?? 0) + f.us);
  return {
    file,
    totalMs: ms(totalUs),
    idleMs: ms(idle),
    gcMs: ms(special('(garbage collector)')),
    programMs: ms(special('(program)')),
    busyMs: ms(totalUs - idle),
    top: [...perFunction.values()]
      .filter((f) => f.name !== '(idle)')
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ name: f.name, location: f.location, selfMs: ms(f.us), selfPercent: pct(f.us) })),
    topInclusive: [...inclusive.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ name: f.name, location: f.location, selfMs: ms(f.us), selfPercent: pct(f.us) })),
    byArea: [...areas].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, selfMs: ms(us), selfPercent: pct(us) })),
  };
}

export function formatSummary(s: ProfileSummary): string {
  const lines = [
    `${s.file}`,
    `  total ${s.totalMs.toFixed(0)} ms: busy ${s.busyMs.toFixed(0)} ms (${((s.busyMs / s.totalMs) * 100).toFixed(1)}%), idle ${s.idleMs.toFixed(0)} ms, GC ${s.gcMs.toFixed(0)} ms, (program) ${s.programMs.toFixed(0)} ms`,
    '  by area (self time):',
    ...s.byArea.slice(0, 12).map((a) => `    ${a.selfPercent.toFixed(1).padStart(5)}%  ${a.selfMs.toFixed(0).padStart(7)} ms  ${a.area}`),
    '  top functions (self time):',
    ...s.top.map((f) => `    ${f.selfPercent.toFixed(1).padStart(5)}%  ${f.selfMs.toFixed(0).padStart(7)} ms  ${f.name}  ${f.location}`),
    "  coldstore's functions by total time (self + synchronous callees):",
    ...s.topInclusive.map((f) => `    ${f.selfPercent.toFixed(1).padStart(5)}%  ${f.selfMs.toFixed(0).padStart(7)} ms  ${f.name}  ${f.location}`),
  ];
  return lines.join('\n');
}

/** The .cpuprofile files of a directory (or the file itself). */
export function profileFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()
    .map((f) => join(path, f));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args[topAt + 1]) : 25;
  const paths = args.filter((_a, i) => topAt < 0 || (i !== topAt && i !== topAt + 1));
  if (paths.length === 0) {
    console.error('usage: tsx test/bench/profile-summary.ts <file.cpuprofile | dir> [--top N]');
    process.exit(2);
  }
  for (const p of paths) for (const f of profileFiles(p)) console.log(formatSummary(summarizeProfile(f, top)));
}
