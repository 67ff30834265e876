/**
 * The nemesis's schedule: lanes (process, network, server, S3 answers, disk) run at the same
 * time, each injecting one fault after another with short seeded gaps, so faults of
 * different lanes overlap — a worker paused while S3 throttles while Kafka restarts. Each
 * lane draws from its own generator seeded from the run's seed, so a seed replays the
 * same choices in each lane (not the same timing across lanes). Stops once `count` faults
 * started, every fault healed.
 *
 * Recovery: a probe samples the backup's progress (the sum of its committed offsets) every
 * second; a fault has recovered at the first progress seen after it healed.
 */
import { SeededRandom } from '../faults/zombie-kit.js';
import { pick, type Lane, type Targets } from './fault-kinds.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export const LANES: Lane[] = ['process', 'process', 'network', 'server', 's3-answers', 'disk'];

export interface FaultRecord {
  n: number;
  kind: string;
  target: string;
  startedAt: number;
  healedAt: number;
  recoveredAt?: number;
}

export interface KindFigures {
  kind: string;
  count: number;
  /** Mean time from harm to heal. */
  meanMs: number;
  /** Median and longest time from heal to the backup's next progress. */
  medianRecoveryMs: number;
  maxRecoveryMs: number;
  /** Faults after which no progress was seen before the run ended. */
  unrecovered: number;
}

export class ProgressProbe {
  private readonly samples: { at: number; value: number }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly read: () => Promise<number | undefined>) {}

  start(): void {
    let reading = false;
    this.timer = setInterval(() => {
      if (reading) return;
      reading = true;
      void this.read()
        .then((value) => {
          const last = this.samples[this.samples.length - 1];
          if (value !== undefined && (!last || value > last.value)) this.samples.push({ at: Date.now(), value });
        })
        .catch(() => undefined)
        .finally(() => (reading = false));
    }, 1_000);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The first moment after `at` that the backup moved on. */
  progressAfter(at: number): number | undefined {
    return this.samples.find((s) => s.at > at)?.at;
  }
}

/** Runs the lanes until `count` faults were started and healed; returns each fault. */
export async function runSchedule(targets: Targets, seed: number, count: number, log: (line: string) => void): Promise<FaultRecord[]> {
  const records: FaultRecord[] = [];
  let started = 0;
  // A lane that fails (a server that would not start again) stops the others after their current fault.
  let failed = false;
  const lanes = await Promise.allSettled(
    LANES.map(async (lane, i) => {
      const rng = new SeededRandom(seed * 31 + i + 1);
      await sleep(rng.int(0, 2_000));
      while (started < count && !failed) {
        const fault = pick(lane, targets, rng);
        if (!fault) {
          await sleep(500);
          continue;
        }
        const record: FaultRecord = { n: ++started, kind: fault.kind, target: fault.target, startedAt: Date.now(), healedAt: 0 };
        records.push(record);
        log(`fault ${record.n}/${count} ${lane}: ${fault.kind} ${fault.target}`);
        await fault.run().catch((err: Error) => {
          failed = true;
          throw new Error(`fault ${record.n} ${fault.kind} ${fault.target} did not heal: ${err.message}`);
        });
        record.healedAt = Date.now();
        log(`healed ${record.n} ${fault.kind} ${fault.target} after ${record.healedAt - record.startedAt} ms`);
        await sleep(rng.int(500, 4_000));
      }
    }),
  );
  const failure = lanes.find((l): l is PromiseRejectedResult => l.status === 'rejected');
  if (failure) throw failure.reason;
  return records.sort((a, b) => a.n - b.n);
}

/** Per fault kind: how many ran, how long they lasted, how long the backup took to move on after each. */
export function figuresByKind(records: readonly FaultRecord[], probe: ProgressProbe): KindFigures[] {
  for (const r of records) r.recoveredAt = probe.progressAfter(r.healedAt);
  const kinds = [...new Set(records.map((r) => r.kind))].sort();
  return kinds.map((kind) => {
    const of = records.filter((r) => r.kind === kind);
    const recoveries = of
      .filter((r) => r.recoveredAt !== undefined)
      .map((r) => r.recoveredAt! - r.healedAt)
      .sort((a, b) => a - b);
    return {
      kind,
      count: of.length,
      meanMs: Math.round(of.reduce((n, r) => n + (r.healedAt - r.startedAt), 0) / of.length),
      medianRecoveryMs: recoveries[Math.floor(recoveries.length / 2)] ?? -1,
      maxRecoveryMs: recoveries[recoveries.length - 1] ?? -1,
      unrecovered: of.length - recoveries.length,
    };
  });
}
