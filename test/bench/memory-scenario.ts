/**
 * Peak memory: the worker process's peak RSS (VmHWM) while backing up N records at 1
 * and at 100 partitions, and 4N records at 1 partition. Memory must not grow with the
 * backlog, and 100 partitions may cost at most about twice 1 partition. The plain
 * consumer's peak RSS on the same topic is shown for reference (the client's own
 * prefetch buffers).
 */
import { runColdstoreBackup, type BackupRunResult } from './backup-run.js';
import { runBaselineConsumer, type Topics } from './backup-scenario.js';
import type { ConsumerResult } from './baseline-consumer.js';
import type { BenchContext } from './context.js';
import { figure, measure, type Figure } from './figures.js';
import { MiB } from './stats.js';

/** gzip level of the memory runs: the connector's default. */
const GZIP_LEVEL = 6;

interface MemoryCase {
  id: string;
  title: string;
  partitions: number;
  records: number;
}

export async function memoryScenario(ctx: BenchContext, topics: Topics): Promise<Figure[]> {
  const n = ctx.plan.memoryRecords;
  const cases: MemoryCase[] = [
    { id: 'p1', title: `1 partition, ${n / 1000}k records`, partitions: 1, records: n },
    { id: 'p100', title: `100 partitions, ${n / 1000}k records`, partitions: 100, records: n },
    { id: 'p1-4x', title: `1 partition, ${(4 * n) / 1000}k records (4× backlog)`, partitions: 1, records: 4 * n },
  ];
  const results = new Map<string, { coldstore: BackupRunResult[]; baseline: ConsumerResult[] }>();
  try {
    for (const c of cases) {
      const t = await topics.get('compressible', c.partitions, c.records);
      const r = { coldstore: [] as BackupRunResult[], baseline: [] as ConsumerResult[] };
      for (let run = 0; run < ctx.options.runs; run++) {
        const x = await runColdstoreBackup(ctx, t, { gzipLevel: GZIP_LEVEL });
        r.coldstore.push(x);
        const b = await runBaselineConsumer(ctx, t);
        r.baseline.push(b);
        ctx.log(
          `memory ${c.id} run ${run + 1}: worker peak RSS ${(x.usage.peakRssBytes / MiB).toFixed(0)} MiB (${x.mbPerSec.toFixed(1)} MB/s), ` +
            `plain consumer ${(b.peakRssBytes / MiB).toFixed(0)} MiB`,
        );
      }
      results.set(c.id, r);
    }
  } catch (err) {
    ctx.log(`memory failed: ${(err as Error).stack ?? err}`);
    return [figure({ id: 'memory', title: 'Peak memory', unit: 'MiB', error: (err as Error).message })];
  }
  const rss = (id: string) => measure(results.get(id)!.coldstore.map((x) => x.usage.peakRssBytes / MiB));
  const consumerRss = (id: string) => measure(results.get(id)!.baseline.map((x) => x.peakRssBytes / MiB));
  const details = (id: string) => ({
    case: cases.find((c) => c.id === id),
    coldstoreRuns: results.get(id)!.coldstore,
    consumerRuns: results.get(id)!.baseline,
  });
  return [
    figure({
      id: 'memory/p1',
      title: `Peak RSS, ${cases[0]!.title}`,
      unit: 'MiB',
      coldstore: rss('p1'),
      baseline: { ...consumerRss('p1'), label: 'plain consumer (reference)' },
      details: details('p1'),
    }),
    figure({
      id: 'memory/p100-vs-p1',
      title: `Peak RSS, ${cases[1]!.title} (vs 1 partition)`,
      unit: 'MiB',
      coldstore: rss('p100'),
      baseline: { ...rss('p1'), label: 'coldstore, 1 partition' },
      target: { of: 'ratio', op: '<=', value: 1.5 },
      note: `plain consumer ${consumerRss('p100').median.toFixed(0)} MiB`,
      details: details('p100'),
    }),
    figure({
      id: 'memory/backlog-4x',
      title: `Peak RSS, ${cases[2]!.title} (vs 1×)`,
      unit: 'MiB',
      coldstore: rss('p1-4x'),
      baseline: { ...rss('p1'), label: 'coldstore, 1× backlog' },
      target: { of: 'ratio', op: '<=', value: 1.25 },
      note: `plain consumer ${consumerRss('p1-4x').median.toFixed(0)} MiB`,
      details: details('p1-4x'),
    }),
  ];
}
