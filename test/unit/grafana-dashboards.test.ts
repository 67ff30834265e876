// The Grafana dashboards docker-compose.yml provisions (config/grafana/dashboards): every
// panel queries the provisioned datasource, and every metric an expression uses is one
// coldstore exports.
import { describe, it, expect } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Metrics } from '../../runtime/telemetry/metrics.js';
import type { MetricSpec } from '../../runtime/api/index.js';
import { ROOT, asArray, asObj, isObj, read, type Obj } from '../helpers/repo-files.js';

const DASHBOARD_DIR = 'config/grafana/dashboards';

/** Where coldstore declares metrics: the runtime's instruments and each connector's metrics.ts. */
function metricSourceFiles(): string[] {
  const connectorFiles = (readdirSync(join(ROOT, 'connectors'), { recursive: true }) as string[])
    .map((f) => f.split('\\').join('/'))
    .filter((f) => f === 'metrics.ts' || f.endsWith('/metrics.ts'))
    .map((f) => `connectors/${f}`);
  return ['runtime/telemetry/metrics.ts', ...connectorFiles.sort()];
}

type InstrumentKind = 'counter' | 'histogram' | 'gauge';

/**
 * The kind of the metric whose name literal sits at `at` in `text`: either the first
 * argument of `meter.createXxx('name', ...)` (runtime), or a MetricSpec `{ name, kind }`
 * naming it directly or through a constant `prop: 'name'` (connectors).
 */
function kindAt(text: string, at: number, name: string, file: string): InstrumentKind {
  const before = text.slice(0, at);
  const create = /\.create(\w+)\(\s*$/.exec(before);
  if (create) {
    const instrument = create[1] ?? '';
    if (/^(Observable)?Counter$/.test(instrument)) return 'counter';
    if (instrument === 'Histogram') return 'histogram';
    if (/^(Observable)?(Gauge|UpDownCounter)$/.test(instrument)) return 'gauge';
    throw new Error(`${file}: ${name} is created by create${instrument}, which this test does not know`);
  }
  const specKind = (spec: string | undefined): InstrumentKind | undefined => {
    const kind = spec === undefined ? undefined : /\bkind:\s*'(\w+)'/.exec(spec)?.[1];
    return kind === 'counter' || kind === 'histogram' || kind === 'gauge' ? kind : undefined;
  };
  if (/\bname:\s*$/.test(before)) {
    const open = before.lastIndexOf('{');
    const close = text.indexOf('}', at);
    const kind = specKind(text.slice(open, close + 1));
    if (kind) return kind;
  }
  const prop = /(\w+):\s*$/.exec(before)?.[1];
  if (prop) {
    const spec = new RegExp(`\\{[^{}]*\\bname:\\s*\\w+\\.${prop}\\b[^{}]*\\}`).exec(text)?.[0];
    const kind = specKind(spec);
    if (kind) return kind;
  }
  throw new Error(`${file}: cannot tell whether ${name} is a counter, a histogram or a gauge`);
}

/** Names as Prometheus sees them: counters get `_total`, histograms `_bucket`, `_sum`, `_count`. */
function exportedNames(name: string, kind: InstrumentKind): string[] {
  if (kind === 'counter') return [name.endsWith('_total') ? name : `${name}_total`];
  if (kind === 'histogram') return [`${name}_bucket`, `${name}_sum`, `${name}_count`];
  return [name];
}

/** Every metric name coldstore exports, found by grepping the sources for `'coldstore_...'` literals. */
function exportedMetricNames(): Set<string> {
  const names = new Set<string>();
  for (const file of metricSourceFiles()) {
    const text = read(file);
    for (const m of text.matchAll(/(['"`])(coldstore_[a-z_]+)\1/g)) {
      const name = m[2] ?? '';
      for (const exported of exportedNames(name, kindAt(text, m.index, name, file))) names.add(exported);
    }
  }
  return names;
}

interface Target {
  expr?: unknown;
  legendFormat?: unknown;
  refId?: unknown;
  datasource?: unknown;
}

interface Panel {
  id?: unknown;
  type?: unknown;
  title?: unknown;
  datasource?: unknown;
  gridPos?: unknown;
  targets?: unknown;
  panels?: unknown;
}

function dashboardFiles(): string[] {
  return readdirSync(join(ROOT, DASHBOARD_DIR))
    .filter((f) => f.endsWith('.json'))
    .sort();
}

function dashboard(file: string): Obj {
  return asObj(JSON.parse(read(`${DASHBOARD_DIR}/${file}`)), file);
}

/** Panels, with the panels nested in (collapsed) rows. */
function allPanels(dash: Obj): Panel[] {
  const top = asArray(dash.panels).filter(isObj) as Panel[];
  return top.flatMap((p) => [p, ...(asArray(p.panels).filter(isObj) as Panel[])]);
}

const queryPanels = (dash: Obj): Panel[] => allPanels(dash).filter((p) => p.type !== 'row');
const targetsOf = (p: Panel): Target[] => asArray(p.targets).filter(isObj) as Target[];

/** PromQL strings of a dashboard: target expressions and template variable queries. */
function queries(dash: Obj): string[] {
  const exprs = queryPanels(dash).flatMap((p) => targetsOf(p).map((t) => String(t.expr ?? '')));
  const templating = isObj(dash.templating) ? asArray(dash.templating.list).filter(isObj) : [];
  const variables = templating.flatMap((v) => [v.definition, isObj(v.query) ? v.query.query : v.query]).filter((q): q is string => typeof q === 'string');
  return [...exprs, ...variables];
}

const metricNamesIn = (query: string): string[] => [...query.matchAll(/\bcoldstore_[a-zA-Z0-9_:]+/g)].map((m) => m[0]);

describe('Grafana dashboards', () => {
  it('finds the exported metric names in the sources, as the Prometheus exporter names them', async () => {
    const grepped = exportedMetricNames();
    expect(grepped.size).toBeGreaterThanOrEqual(10);
    // Cross-check the naming rule against the real exporter: register every declared
    // metric, record a value on each, and read the exposition text.
    const metrics = new Metrics({
      taskStates: () => [{ connector: 'c', task: 0, state: 'RUNNING' }],
      sinkPositions: () => [{ connector: 'c', task: 0, topic: 't', partition: 0, offset: 5n, highWatermark: 9n }],
      cluster: () => ({ leader: true, generation: 1, connectors: 1, tasks: 2 }),
    });
    try {
      for (const value of Object.values(metrics) as unknown[]) {
        if (!isObj(value)) continue;
        if (typeof value.add === 'function') (value.add as (n: number) => void)(1);
        else if (typeof value.record === 'function') (value.record as (n: number) => void)(1);
      }
      for (const file of metricSourceFiles().filter((f) => f.startsWith('connectors/'))) {
        const module = (await import(pathToFileURL(join(ROOT, file)).href)) as Record<string, unknown>;
        const specs = Object.values(module)
          .filter(Array.isArray)
          .flat()
          .filter((s): s is MetricSpec => isObj(s) && typeof s.name === 'string' && typeof s.kind === 'string');
        const recorder = metrics.taskMetrics(specs, 'c', 0);
        for (const spec of specs) {
          if (spec.kind === 'counter') recorder.add(spec.name, 1);
          else if (spec.kind === 'gauge') recorder.set(spec.name, 1);
          else recorder.record(spec.name, 1);
        }
      }
      const text = await metrics.prometheusText();
      const exported = new Set(
        text
          .split('\n')
          .filter((l) => l.startsWith('coldstore_'))
          .map((l) => l.split(/[{ ]/)[0] ?? ''),
      );
      expect([...grepped].sort()).toEqual([...exported].sort());
    } finally {
      await metrics.shutdown();
    }
  });

  it('are valid dashboard JSON with unique uids', () => {
    const files = dashboardFiles();
    expect(files).toContain('backup.json');
    expect(files).toContain('restore.json');
    const uids = new Set<string>();
    for (const file of files) {
      const dash = dashboard(file);
      expect(typeof dash.title, `${file} title`).toBe('string');
      expect(typeof dash.uid, `${file} uid`).toBe('string');
      expect(uids.has(String(dash.uid)), `${file}: uid ${String(dash.uid)} is unique`).toBe(false);
      uids.add(String(dash.uid));
      expect(typeof dash.schemaVersion, `${file} schemaVersion`).toBe('number');
      expect(queryPanels(dash).length, `${file} has panels`).toBeGreaterThan(0);
    }
  });

  it('the Backup dashboard has its title, uid and schema version', () => {
    const dash = dashboard('backup.json');
    expect(dash.title).toBe('Backup');
    expect(dash.uid).toBe('coldstore-backup');
    expect(dash.schemaVersion).toBe(39);
  });

  it('the Restore dashboard has its title, uid and schema version', () => {
    const dash = dashboard('restore.json');
    expect(dash.title).toBe('Restore');
    expect(dash.uid).toBe('coldstore-restore');
    expect(dash.schemaVersion).toBe(39);
  });

  it.each(dashboardFiles())('%s: every panel queries the prometheus datasource, with a place on the grid', (file) => {
    const dash = dashboard(file);
    const ids = new Set<unknown>();
    const boxes: { title: string; x: number; y: number; w: number; h: number }[] = [];
    for (const panel of allPanels(dash)) {
      const title = String(panel.title);
      expect(ids.has(panel.id), `${file}: panel id ${String(panel.id)} is unique`).toBe(false);
      ids.add(panel.id);
      const grid = asObj(panel.gridPos, `${file}: gridPos of ${title}`);
      const [x, y, w, h] = [grid.x, grid.y, grid.w, grid.h].map(Number) as [number, number, number, number];
      for (const v of [x, y, w, h]) expect(Number.isInteger(v), `${file}: ${title} gridPos is integral`).toBe(true);
      expect(x >= 0 && w > 0 && h > 0 && x + w <= 24, `${file}: ${title} fits the 24-column grid`).toBe(true);
      for (const b of boxes) {
        const overlap = x < b.x + b.w && b.x < x + w && y < b.y + b.h && b.y < y + h;
        expect(overlap, `${file}: ${title} overlaps ${b.title}`).toBe(false);
      }
      boxes.push({ title, x, y, w, h });
      if (panel.type === 'row') continue;
      expect(isObj(panel.datasource) && panel.datasource.uid, `${file}: datasource of ${title}`).toBe('prometheus');
      const targets = targetsOf(panel);
      expect(targets.length, `${file}: ${title} has targets`).toBeGreaterThan(0);
      expect(new Set(targets.map((t) => t.refId)).size, `${file}: ${title} refIds are unique`).toBe(targets.length);
      for (const t of targets) {
        expect(typeof t.expr === 'string' && t.expr.trim() !== '', `${file}: ${title} target has an expr`).toBe(true);
        expect(typeof t.legendFormat, `${file}: ${title} target has a legendFormat`).toBe('string');
        if (t.datasource !== undefined) expect(isObj(t.datasource) && t.datasource.uid, `${file}: ${title} target datasource`).toBe('prometheus');
      }
    }
  });

  it.each(dashboardFiles())('%s: every metric an expression uses is exported by coldstore', (file) => {
    const exported = exportedMetricNames();
    const used = queries(dashboard(file)).flatMap(metricNamesIn);
    expect(used.length, `${file} uses coldstore metrics`).toBeGreaterThan(0);
    for (const name of used) expect(exported.has(name), `${file}: ${name} is exported`).toBe(true);
  });

  it('the Backup dashboard shows what operations.md promises', () => {
    const dash = dashboard('backup.json');
    const exprs = queryPanels(dash).flatMap((p) => targetsOf(p).map((t) => String(t.expr)));
    const used = new Set(exprs.flatMap(metricNamesIn));
    for (const name of [
      'coldstore_backup_records_total',
      'coldstore_backup_raw_bytes_total',
      'coldstore_backup_compressed_bytes_total',
      'coldstore_backup_bundles_total',
      'coldstore_backup_upload_duration_seconds_bucket',
      'coldstore_backup_errors_total',
      'coldstore_sink_lag',
      'coldstore_sink_committed_offset',
      'coldstore_task_state',
      'coldstore_task_errors_total',
    ]) {
      expect(used.has(name), `a panel queries ${name}`).toBe(true);
    }
    for (const q of ['0.5', '0.95', '0.99']) {
      expect(
        exprs.some((e) => e.includes(`histogram_quantile(${q},`) && e.includes('coldstore_backup_upload_duration_seconds_bucket')),
        `p${q}`,
      ).toBe(true);
    }
    expect(
      exprs.some((e) => /coldstore_backup_raw_bytes_total[^/]*\/[^/]*coldstore_backup_compressed_bytes_total/.test(e)),
      'compression ratio',
    ).toBe(true);
    expect(
      exprs.some((e) => /coldstore_task_state(\{[^}]*\})?\s*==\s*1\b/.test(e)),
      'task states',
    ).toBe(true);
  });

  it('the Restore dashboard shows the restore metrics and the source delivery', () => {
    const dash = dashboard('restore.json');
    const exprs = queryPanels(dash).flatMap((p) => targetsOf(p).map((t) => String(t.expr)));
    const used = new Set(exprs.flatMap(metricNamesIn));
    for (const name of [
      'coldstore_restore_records_total',
      'coldstore_restore_bytes_total',
      'coldstore_restore_objects_total',
      'coldstore_restore_bad_objects_total',
      'coldstore_restore_fetch_duration_seconds_bucket',
      'coldstore_restore_group_offsets_total',
      'coldstore_source_records_total',
      'coldstore_task_state',
      'coldstore_task_errors_total',
    ]) {
      expect(used.has(name), `a panel queries ${name}`).toBe(true);
    }
    for (const q of ['0.5', '0.99']) {
      expect(
        exprs.some((e) => e.includes(`histogram_quantile(${q},`) && e.includes('coldstore_restore_fetch_duration_seconds_bucket')),
        `p${q}`,
      ).toBe(true);
    }
    for (const state of ['FINISHED', 'RUNNING', 'FAILED']) {
      expect(
        exprs.some((e) => e.includes('coldstore_task_state') && e.includes(`state="${state}"`)),
        `tasks ${state}`,
      ).toBe(true);
    }
    const variables = isObj(dash.templating) ? asArray(dash.templating.list).filter(isObj) : [];
    expect(variables.map((v) => v.name)).toContain('connector');
  });
});
