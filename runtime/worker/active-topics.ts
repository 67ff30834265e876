import { Backoff } from '../api/retry.js';
import { namespaces, type CheckpointStore } from '../storage/checkpoint-store.js';
import type { Logger } from '../telemetry/logger.js';

/** How often a failing write is reported while it keeps failing. */
const WARN_EVERY_MS = 60_000;

/**
 * KIP-558's active topics of one task: the topics it used (a sink: committed records of;
 * a source: had records acknowledged in) since the connector's set was last reset. One
 * key per topic in the connector's namespace: the worker's checkpoint store standalone,
 * the status topic in cluster mode. The set known is loaded once per task and a topic is
 * written only the first time the task uses it, so the hot path costs a set lookup.
 *
 * The write is never awaited by the commit path: in cluster mode it goes through the
 * worker's shared status writer and may wait for delivery for as long as the producer's
 * message timeout, and tracking topics must not hold up committing offsets. One write
 * is in flight per task; after a failure the next waits out a backoff.
 */
export class ActiveTopics {
  private known: Set<string> | undefined;
  private readonly pending = new Set<string>();
  private inFlight: Promise<void> | undefined;
  private retryAt = 0;
  private lastWarnAt = -Infinity;
  private failedSinceWarn = 0;

  constructor(
    private readonly store: CheckpointStore,
    private readonly connector: string,
    private readonly task: number,
    private readonly log: Logger,
    private readonly backoff = new Backoff(1_000, 60_000, 0),
  ) {}

  /** Records the topics not recorded yet, in the background. Tracking never stops or slows a task: a failed write is retried with a later batch. */
  note(topics: Iterable<string>): void {
    for (const topic of topics) if (!this.known?.has(topic)) this.pending.add(topic);
    if (this.pending.size === 0 || this.inFlight || Date.now() < this.retryAt) return;
    this.inFlight = this.write().finally(() => (this.inFlight = undefined));
  }

  /** Resolves when no write is in flight. */
  settled(): Promise<void> {
    return this.inFlight ?? Promise.resolve();
  }

  /** A task ending: writes what is pending, backoff or not, and waits for it, so its status shows every topic it used. A failure is logged, never thrown. */
  async flush(): Promise<void> {
    await this.settled();
    if (this.pending.size === 0) return;
    this.inFlight = this.write().finally(() => (this.inFlight = undefined));
    await this.inFlight;
  }

  private async write(): Promise<void> {
    const fresh = [...this.pending];
    this.pending.clear();
    try {
      const namespace = namespaces.activeTopics(this.connector);
      this.known ??= new Set(Object.keys(await this.store.read(namespace)));
      const known = this.known;
      const unknown = fresh.filter((t) => !known.has(t));
      if (unknown.length > 0) {
        await this.store.write(namespace, Object.fromEntries(unknown.map((topic) => [topic, { task: this.task, discovered: Date.now() }])));
        for (const topic of unknown) known.add(topic);
      }
      this.backoff.reset();
    } catch (err) {
      for (const topic of fresh) this.pending.add(topic);
      const delayMs = this.backoff.next();
      this.retryAt = Date.now() + delayMs;
      this.failedSinceWarn++;
      if (Date.now() - this.lastWarnAt >= WARN_EVERY_MS) {
        this.log.warn({ err, failures: this.failedSinceWarn, retryInMs: delayMs }, 'recording the active topics failed; retried with a later batch');
        this.lastWarnAt = Date.now();
        this.failedSinceWarn = 0;
      }
    }
  }
}

/** The topics of a batch: one reference comparison per record, as a batch mostly holds runs of one topic. */
export function topicsOf(records: readonly { topic: string }[]): Set<string> {
  const topics = new Set<string>();
  let last: string | undefined;
  for (const { topic } of records) {
    if (topic === last) continue;
    last = topic;
    topics.add(topic);
  }
  return topics;
}

/** The connector's active topics, sorted. */
export async function readActiveTopics(store: CheckpointStore, connector: string): Promise<string[]> {
  return Object.keys(await store.read(namespaces.activeTopics(connector))).sort();
}

/** Forgets the connector's active topics (a reset, or the connector deleted). */
export function forgetActiveTopics(store: CheckpointStore, connector: string): Promise<void> {
  return store.drop(namespaces.activeTopics(connector));
}
