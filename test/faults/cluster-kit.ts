/**
 * Helpers of the cluster fault suites (cluster-*.test.ts): a cluster of worker processes
 * sharing one group.id, and a seeded random nemesis that kills (-9), pauses past the
 * session timeout (zombies), restarts, adds and removes workers while records flow.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLUSTER_SESSION_TIMEOUT_MS, clusterWorkerConfig } from '../helpers/cluster-config.js';
import { freePort, WorkerProcess } from '../helpers/worker-process.js';
import type { KafkaProducer } from '../../runtime/kafka/producer.js';
import { logTail, sleep } from './fault-kit.js';
import type { SeededRandom } from './zombie-kit.js';

export const SESSION_TIMEOUT_MS = CLUSTER_SESSION_TIMEOUT_MS;

export interface ClusterMember {
  name: string;
  worker: WorkerProcess;
  /** Pauses (SIGSTOP past the session timeout) this member went through. */
  zombies: number;
}

export class Cluster {
  readonly members: ClusterMember[] = [];

  constructor(
    private readonly dir: string,
    readonly group: string,
  ) {}

  async add(name: string, extra: Record<string, unknown> = {}): Promise<ClusterMember> {
    mkdirSync(join(this.dir, name), { recursive: true });
    const member = { name, worker: new WorkerProcess(join(this.dir, name), await freePort(), clusterWorkerConfig(this.group, name, extra)), zombies: 0 };
    this.members.push(member);
    return member;
  }

  running(): ClusterMember[] {
    return this.members.filter((m) => m.worker.pid !== undefined && !m.worker.isStopped());
  }

  stopped(): ClusterMember[] {
    return this.members.filter((m) => m.worker.pid === undefined);
  }

  /** Any running member's REST API (writes are forwarded to the leader). */
  async api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    let last: unknown;
    for (let attempt = 0; attempt < 30; attempt++) {
      const live = this.running();
      const member = live[attempt % Math.max(1, live.length)];
      if (member) {
        try {
          const answer = await member.worker.api(method, path, body);
          if (answer.status !== 503) return answer;
          last = answer.body;
        } catch (err) {
          last = err;
        }
      }
      await sleep(500);
    }
    throw new Error(`${method} ${path} failed on every worker: ${JSON.stringify(last)}`);
  }

  /** Resolves once the connector's tasks are all RUNNING, each on a running member; returns task → worker. */
  async untilRunning(connector: string, tasks: number, timeoutMs: number): Promise<Map<number, string>> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      const live = new Set(this.running().map((m) => m.name));
      const answer = await this.api('GET', `/connectors/${connector}/status`).catch(() => undefined);
      const list = (answer?.body?.tasks ?? []) as { id: number; state: string; worker_id: string }[];
      last = JSON.stringify(list.map((t) => `${t.id}:${t.state}@${t.worker_id}`));
      if (list.length === tasks && list.every((t) => t.state === 'RUNNING' && live.has(t.worker_id))) {
        return new Map(list.map((t) => [t.id, t.worker_id]));
      }
      await sleep(200);
    }
    throw new Error(
      `tasks of ${connector} not all RUNNING on live workers within ${timeoutMs} ms; last ${last}\n${this.members.map((m) => `${m.name}:\n${logTail(m.worker, 8)}`).join('\n')}`,
    );
  }

  async killAll(): Promise<void> {
    for (const m of this.members) {
      m.worker.resume();
      await m.worker.kill('SIGKILL');
    }
  }
}

/** How many times a worker's log says it was fenced (its group session ended while it was paused). */
export function fencedCount(worker: WorkerProcess): number {
  let text = '';
  try {
    text = readFileSync(worker.logPath, 'utf8');
  } catch {
    return 0;
  }
  return text.split('\n').filter((line) => line.includes('worker fenced')).length;
}

export type Fault = 'kill' | 'zombie' | 'restart' | 'add' | 'remove';

/**
 * Injects `count` faults, each chosen at random among those possible at that moment, one
 * after the other with short random gaps: kill -9 (restarted after 0.5–8 s, so sometimes
 * before and sometimes after the session timeout), a pause of session timeout + 1–4 s then
 * SIGCONT, SIGTERM and start again, a stopped member added, a member removed (SIGTERM, left
 * stopped). At least two members keep running. Returns how often each fault happened.
 */
export async function nemesis(cluster: Cluster, rng: SeededRandom, count: number, log: (line: string) => void): Promise<Record<Fault, number>> {
  const counts: Record<Fault, number> = { kill: 0, zombie: 0, restart: 0, add: 0, remove: 0 };
  for (let i = 0; i < count; i++) {
    const running = cluster.running();
    const possible: Fault[] = ['restart'];
    if (running.length >= 2) possible.push('kill', 'zombie', 'kill', 'zombie');
    if (cluster.stopped().length > 0) possible.push('add');
    if (running.length >= 3) possible.push('remove');
    const fault = rng.pick(possible);
    const victim = rng.pick(fault === 'add' ? cluster.stopped() : running);
    const started = Date.now();
    switch (fault) {
      case 'kill':
        await victim.worker.kill('SIGKILL');
        await sleep(rng.int(500, 8_000));
        await victim.worker.start();
        break;
      case 'zombie':
        victim.worker.pause();
        await sleep(SESSION_TIMEOUT_MS + rng.int(1_000, 4_000));
        victim.worker.resume();
        victim.zombies++;
        break;
      case 'restart':
        await victim.worker.terminate();
        await victim.worker.start();
        break;
      case 'add':
        await victim.worker.start();
        break;
      case 'remove':
        await victim.worker.terminate();
        break;
    }
    counts[fault]++;
    log(`fault ${i + 1}/${count}: ${fault} ${victim.name} (${Date.now() - started} ms)`);
    await sleep(rng.int(300, 2_500));
  }
  return counts;
}

/**
 * Distinct keyed records (`k-<p>-<i>`, `v-<p>-<i>-<label>`) into every partition, `perTick`
 * each about every 100 ms, from start() until stop(); it can start again, counting on.
 */
export class SteadyProduction {
  readonly produced: number[];
  private running = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly producer: KafkaProducer,
    private readonly topic: string,
    partitions: number,
    private readonly perTick: number,
    private readonly label: string,
  ) {
    this.produced = Array.from({ length: partitions }, () => 0);
  }

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const tick = Date.now();
        await Promise.all(
          this.produced.flatMap((_, p) =>
            Array.from({ length: this.perTick }, () => {
              const i = this.produced[p]!++;
              return this.producer.send({ topic: this.topic, partition: p, key: Buffer.from(`k-${p}-${i}`), value: Buffer.from(`v-${p}-${i}-${this.label}`) });
            }),
          ),
        );
        await sleep(Math.max(0, 100 - (Date.now() - tick)));
      }
    })();
  }

  /** Stops after the tick under way; the counts produced per partition. */
  async stop(): Promise<number[]> {
    this.running = false;
    await this.loop;
    return [...this.produced];
  }
}
