/**
 * The faults the nemesis injects, each a function that does harm, waits out its duration
 * and heals, returning once healed. Grouped by the lane that runs them (schedule.ts): lanes
 * run at the same time, so faults of different lanes overlap.
 */
import type { PrivateS3 } from '../stack/s3proxy.js';
import type { PrivateKafka } from '../faults/private-kafka.js';
import type { SmallDisk } from '../faults/fault-kit.js';
import type { SeededRandom } from '../faults/zombie-kit.js';
import type { DispatcherDouble } from '../helpers/dispatcher-double.js';
import type { WorkerProcess } from '../helpers/worker-process.js';
import type { NetNamespace } from './netns.js';
import type { S3FaultProxy } from './s3-fault-proxy.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface NemesisWorker {
  name: string;
  worker: WorkerProcess;
  ns: NetNamespace;
  /** Held by a lane while it harms this worker's process or link, so two faults of one kind never stack. */
  busy: Set<'process' | 'network'>;
}

export interface Targets {
  workers: NemesisWorker[];
  kafka: PrivateKafka;
  s3: PrivateS3;
  /** The S3 server's data directory, a small file system of its own. */
  s3Disk: SmallDisk;
  proxy: S3FaultProxy;
  dispatcher: DispatcherDouble;
  /** The worker's session timeout: pauses last longer, so the group goes on without the paused worker. */
  sessionTimeoutMs: number;
}

export type Lane = 'process' | 'network' | 'server' | 's3-answers' | 'disk';

/** A fault picked and started: what it is, what it hit, and the harm-then-heal to await. */
export interface Picked {
  kind: string;
  target: string;
  run: () => Promise<void>;
}

/** Starts a worker again, retrying while it cannot come up (its disk full, its link cut: another lane heals those). */
export async function startAgain(w: NemesisWorker): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await w.worker.start();
      return;
    } catch (err) {
      await w.worker.kill('SIGKILL').catch(() => undefined);
      if (attempt >= 20) throw new Error(`${w.name} does not start again after ${attempt} attempts: ${(err as Error).message}`);
      await sleep(2_000);
    }
  }
}

const bags = new WeakMap<SeededRandom, string[]>();

/** The next kind from the lane's shuffled bag: every kind comes up before any comes up again, so a short run still sees each. */
function draw(rng: SeededRandom, kinds: readonly string[]): string {
  let bag = bags.get(rng);
  if (!bag || bag.length === 0) {
    bag = [...kinds];
    for (let i = bag.length - 1; i > 0; i--) {
      const j = rng.int(0, i);
      [bag[i], bag[j]] = [bag[j]!, bag[i]!];
    }
    bags.set(rng, bag);
  }
  return bag.pop()!;
}

/** Starts a server again; a second and third try if it does not come up (a slow JVM start). */
async function restart(start: () => Promise<void>, stop: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      await stop().catch(() => undefined);
      if (attempt >= 3) throw err;
      await sleep(2_000);
    }
  }
}

function signal(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid !== undefined) process.kill(pid, sig);
}

/** A worker this lane may harm now, or undefined (then the lane waits a moment). */
function freeWorker(t: Targets, rng: SeededRandom, lane: 'process' | 'network'): NemesisWorker | undefined {
  const free = t.workers.filter((w) => !w.busy.has(lane) && (lane !== 'process' || w.worker.pid !== undefined));
  // At most two workers' processes harmed at once (the network lane may still cut the third off).
  if (lane === 'process' && t.workers.filter((w) => w.busy.has('process')).length >= t.workers.length - 1) return undefined;
  return free.length > 0 ? rng.pick(free) : undefined;
}

function holding(w: NemesisWorker, lane: 'process' | 'network', harm: () => Promise<void>): () => Promise<void> {
  w.busy.add(lane);
  return () => harm().finally(() => w.busy.delete(lane));
}

export function pick(lane: Lane, t: Targets, rng: SeededRandom): Picked | undefined {
  switch (lane) {
    case 'process': {
      const w = freeWorker(t, rng, 'process');
      if (!w) return undefined;
      const kind = draw(rng, ['kill', 'kill', 'pause', 'pause', 'restart']);
      const downMs = rng.int(500, 8_000);
      const pausedMs = t.sessionTimeoutMs + rng.int(1_000, 4_000);
      const harm: Record<string, () => Promise<void>> = {
        kill: async () => {
          await w.worker.kill('SIGKILL');
          await sleep(downMs);
          await startAgain(w);
        },
        pause: async () => {
          w.worker.pause();
          await sleep(pausedMs);
          w.worker.resume();
        },
        restart: async () => {
          await w.worker.terminate(30_000).catch(() => w.worker.kill('SIGKILL'));
          await startAgain(w);
        },
      };
      return { kind: `worker-${kind}`, target: w.name, run: holding(w, 'process', harm[kind]!) };
    }
    case 'network': {
      const w = freeWorker(t, rng, 'network');
      if (!w) return undefined;
      const kind = draw(rng, ['cut', 'cut', 'slow-link', 'lossy-link']);
      const ms = rng.int(3_000, kind === 'cut' ? t.sessionTimeoutMs + 8_000 : 15_000);
      const harm = async () => {
        if (kind === 'cut') w.ns.cut();
        else if (kind === 'slow-link') w.ns.delay(rng.int(300, 2_000), 200);
        else w.ns.loss(rng.int(5, 25));
        await sleep(ms);
        w.ns.heal();
      };
      return { kind: `network-${kind}`, target: w.name, run: holding(w, 'network', harm) };
    }
    case 'disk': {
      // The store's disk: a cluster-mode worker keeps nothing on its own (state in Kafka, bundles in memory).
      const ms = rng.int(3_000, 12_000);
      const harm = async () => {
        t.s3Disk.fill();
        await sleep(ms);
        t.s3Disk.free();
      };
      return { kind: 'store-disk-full', target: 's3', run: harm };
    }
    case 'server': {
      const kind = draw(rng, ['kafka-kill', 'kafka-pause', 's3-kill', 's3-pause', 'dispatcher-down', 'dispatcher-hang']);
      const ms = rng.int(2_000, 12_000);
      const harm: Record<string, () => Promise<void>> = {
        'kafka-kill': async () => {
          await t.kafka.stop('SIGKILL');
          await sleep(ms);
          await restart(
            () => t.kafka.start(),
            () => t.kafka.stop('SIGKILL'),
          );
        },
        'kafka-pause': async () => {
          const pid = t.kafka.pid;
          signal(pid, 'SIGSTOP');
          await sleep(ms);
          signal(pid, 'SIGCONT');
        },
        's3-kill': async () => {
          await t.s3.stop();
          await sleep(ms);
          await restart(
            () => t.s3.start(),
            () => t.s3.stop(),
          );
        },
        's3-pause': async () => {
          const pid = t.s3.pid;
          signal(pid, 'SIGSTOP');
          await sleep(ms);
          signal(pid, 'SIGCONT');
        },
        // The double lives in the test process: down drops every connection unanswered, hang answers nothing until healed.
        'dispatcher-down': async () => {
          t.dispatcher.fail({ reset: true });
          await sleep(ms);
          t.dispatcher.clearFailures();
        },
        'dispatcher-hang': async () => {
          t.dispatcher.fail({ hang: true });
          await sleep(ms);
          t.dispatcher.clearFailures();
        },
      };
      return { kind, target: kind.split('-')[0]!, run: harm[kind]! };
    }
    case 's3-answers': {
      const kind = draw(rng, ['s3-slow', 's3-500', 's3-503-slowdown', 's3-reset']);
      const ms = rng.int(3_000, 15_000);
      const harm = async () => {
        if (kind === 's3-slow') t.proxy.set({ kind: 'slow', delayMs: rng.int(200, 2_000), jitterMs: 100 });
        else if (kind === 's3-500') t.proxy.set({ kind: 'error', status: 500, fraction: rng.pick([0.25, 0.5, 1]) });
        else if (kind === 's3-503-slowdown') t.proxy.set({ kind: 'error', status: 503, fraction: rng.pick([0.25, 0.5, 1]) });
        else t.proxy.set({ kind: 'reset', fraction: rng.pick([0.2, 0.5]) });
        await sleep(ms);
        t.proxy.heal();
      };
      return { kind, target: 's3', run: harm };
    }
  }
}
