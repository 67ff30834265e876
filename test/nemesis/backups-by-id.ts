/**
 * Backups by id taken while the nemesis runs, one every `everyMs`: each is asked of any
 * live worker and followed until it settles. Refusals (no BackupSink RUNNING for a
 * minute: 409 BACKUP_NOT_POSSIBLE; the leader unreachable) are counted, not failures;
 * after the run one more must complete, and every completed backup must verify.
 */
import type { Cluster } from '../faults/cluster-kit.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface BackupOutcome {
  id: number;
  status: string;
  reason?: string;
}

export class BackupTaker {
  readonly outcomes: BackupOutcome[] = [];
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  private nextId = 1;

  constructor(private readonly cluster: Cluster) {}

  /** The first backup after `firstMs` (so even a short run takes one), then one every `everyMs`. */
  start(everyMs: number, firstMs = Math.min(everyMs, 15_000)): void {
    this.running = true;
    this.loop = (async () => {
      for (let wait = firstMs; this.running; wait = everyMs) {
        await this.sleepWhileRunning(wait);
        if (this.running) this.outcomes.push(await this.take(this.nextId++));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /**
   * Takes one backup and waits (up to 3 minutes) until it completed or failed. A refused
   * request (no BackupSink RUNNING, the leader unreachable) is asked again for up to a
   * minute, as an operator would; BACKUP_ID_CONFLICT means an earlier attempt got through.
   */
  async take(id: number): Promise<BackupOutcome> {
    const askUntil = Date.now() + 60_000;
    let refused: BackupOutcome | undefined;
    for (;;) {
      const asked = await this.cluster.api('POST', `/backups/${id}`).catch((err: Error) => ({ status: 0, body: { message: err.message } }));
      if (asked.status === 202 || asked.body?.code === 'BACKUP_ID_CONFLICT') break;
      refused = { id, status: `refused ${asked.status}`, reason: [asked.body?.code, asked.body?.message].filter(Boolean).join(': ') };
      if (Date.now() > askUntil) return refused;
      await sleep(3_000);
    }
    return this.follow(id);
  }

  private async follow(id: number): Promise<BackupOutcome> {
    const deadline = Date.now() + 180_000;
    while (Date.now() < deadline) {
      const got = await this.cluster.api('GET', `/backups/${id}`).catch(() => undefined);
      if (got?.status === 200 && got.body.status !== 'IN_PROGRESS') return { id, status: got.body.status, reason: got.body.failureReason ?? undefined };
      await sleep(1_000);
    }
    return { id, status: 'IN_PROGRESS after 3 minutes' };
  }

  /** Follows again, now the faults are over, every backup still in progress when it was left. */
  async settle(): Promise<void> {
    for (const outcome of this.outcomes.filter((o) => o.status.startsWith('IN_PROGRESS'))) Object.assign(outcome, await this.follow(outcome.id));
  }

  /** One more backup once the faults are over: it must complete. */
  async last(): Promise<BackupOutcome> {
    const outcome = await this.take(this.nextId++);
    this.outcomes.push(outcome);
    return outcome;
  }

  /** Verifies every completed backup; returns the problems of those that do not verify. */
  async verifyCompleted(): Promise<string[]> {
    const problems: string[] = [];
    for (const { id } of this.outcomes.filter((o) => o.status === 'COMPLETED')) {
      const verified = await this.cluster.api('POST', `/backups/${id}/verify`);
      if (verified.body?.ok !== true) problems.push(`backup ${id}: ${JSON.stringify(verified.body).slice(0, 500)}`);
    }
    return problems;
  }

  private async sleepWhileRunning(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (this.running && Date.now() < until) await sleep(Math.min(500, until - Date.now()));
  }
}
