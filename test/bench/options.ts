/** Command-line options of `npm run bench` and the plan (which cases, how many records) they select. */
import { Command, InvalidArgumentError } from 'commander';
import { VALUE_BYTES, type RecordKind } from './records.js';

export interface BenchOptions {
  quick: boolean;
  runs: number;
  json?: string;
  only: string[];
  keepStack: boolean;
  profile?: string;
}

export interface BackupCase {
  id: string;
  kind: RecordKind;
  partitions: number;
  gzipLevel: number;
}

export interface Plan {
  backupCases: BackupCase[];
  /** Records per pre-filled backup topic: a multiple of 1000 × every partition count, so every bundle closes by count. */
  backupRecords: number;
  /** Memory scenario: N records at 1 and 100 partitions, 4N at 1 partition (multiples of 1000 per partition). */
  memoryRecords: number;
  freshness: { seconds: number; bundleMaxAgeMs: number; cases: FreshnessCase[] };
  rpo: RpoPlan;
  /** Scenario ids the run includes (after --only). */
  selected: (id: string) => boolean;
}

/** A steady production rate the freshness scenario measures: a flood fills every poll, a trickle does not. */
export interface FreshnessCase {
  /** Figure id prefix, e.g. `freshness` or `freshness/low-rate`. */
  id: string;
  recordsPerSecond: number;
  partitions: number;
  /** The rate as the report names it. */
  rate: string;
}

/** The warm standby's recovery point under steady load: a backup and a follow-mode restore in one worker. */
export interface RpoPlan {
  /** Measured seconds, after warmupSeconds of production that are not measured. */
  seconds: number;
  warmupSeconds: number;
  bundleMaxAgeMs: number;
  followIntervalMs: number;
  partitions: number;
  recordsPerSecond: number;
  rate: string;
}

export const SCENARIOS = ['backup', 'encryption', 'restore', 'memory', 'freshness', 'failover', 'rpo', 'peer'] as const;

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

export function parseOptions(argv: readonly string[]): BenchOptions {
  const program = new Command()
    .name('bench')
    .description('coldstore benchmarks against baselines and peers (docs/performance.md)')
    .option('--quick', 'reduced matrix and fewer records, 1 run per figure (under 5 minutes)', false)
    .option('--runs <n>', 'runs per figure (default 3, 1 with --quick)', positiveInt)
    .option('--json <path>', 'write every figure, raw run, ratio, target and the machine description here')
    .option(
      '--only <names>',
      `comma-separated scenario ids or prefixes: ${SCENARIOS.join(', ')}; or finer, e.g. backup/random, backup/random/p64/gzip6, restore/poll, peer/aiven, peer/oso`,
    )
    .option('--keep-stack', 'leave Kafka and S3Proxy running even if this run started them', false)
    .option('--profile <dir>', 'run worker processes with --cpu-prof --cpu-prof-dir=<dir> and summarise the profiles')
    .allowExcessArguments(false);
  program.parse([...argv], { from: 'user' });
  const o = program.opts<{ quick: boolean; runs?: number; json?: string; only?: string; keepStack: boolean; profile?: string }>();
  return {
    quick: o.quick,
    runs: o.runs ?? (o.quick ? 1 : 3),
    ...(o.json ? { json: o.json } : {}),
    only: (o.only ?? '')
      .split(',')
      .map((s) => s.trim().replace(/\/+$/, ''))
      .filter(Boolean),
    keepStack: o.keepStack,
    ...(o.profile ? { profile: o.profile } : {}),
  };
}

/** True when `id` is selected by one of the --only names (an exact id or a prefix ending at a '/'). */
export function matches(only: readonly string[], id: string): boolean {
  return only.length === 0 || only.some((name) => id === name || id.startsWith(`${name}/`) || name.startsWith(`${id}/`));
}

/** Every scenario id of a full run, for checking --only names. */
export function allIds(): string[] {
  const backup = makePlan({ quick: false, runs: 1, only: [], keepStack: false }).backupCases.map((c) => c.id);
  return [...backup, 'encryption', 'restore/plain', 'restore/poll', 'memory', 'freshness', 'freshness/low-rate', 'failover', 'rpo', 'peer/aiven', 'peer/oso'];
}

/** --only names that select nothing at all (typos). */
export function unknownNames(only: readonly string[]): string[] {
  const ids = allIds();
  return only.filter((name) => !ids.some((id) => matches([name], id)));
}

export function makePlan(options: BenchOptions): Plan {
  const kinds: RecordKind[] = ['compressible', 'random'];
  const partitionCounts = options.quick ? [8] : [1, 8, 64];
  const levels = [1, 6];
  const backupCases: BackupCase[] = [];
  for (const kind of kinds) {
    for (const partitions of partitionCounts) {
      for (const gzipLevel of levels) backupCases.push({ id: `backup/${kind}/p${partitions}/gzip${gzipLevel}`, kind, partitions, gzipLevel });
    }
  }
  const selected = (id: string) => matches(options.only, id);
  // Records are a 1 KiB value and a key of about 12 bytes.
  const twoMiBPerSecond = Math.round((2 * 1024 * 1024) / (VALUE_BYTES + 12));
  return {
    backupCases: backupCases.filter((c) => selected(c.id)),
    backupRecords: options.quick ? 64_000 : 256_000,
    memoryRecords: options.quick ? 100_000 : 200_000,
    freshness: {
      seconds: options.quick ? 20 : 60,
      bundleMaxAgeMs: 5_000,
      cases: [
        { id: 'freshness', recordsPerSecond: twoMiBPerSecond, partitions: 16, rate: '2 MiB/s' },
        { id: 'freshness/low-rate', recordsPerSecond: 25, partitions: 4, rate: '25 records/s' },
      ],
    },
    rpo: {
      seconds: options.quick ? 20 : 60,
      warmupSeconds: 10,
      bundleMaxAgeMs: 5_000,
      followIntervalMs: 2_000,
      partitions: 16,
      recordsPerSecond: twoMiBPerSecond,
      rate: '2 MiB/s',
    },
    selected,
  };
}
