import { namespaces, type CheckpointStore } from '../storage/checkpoint-store.js';
import type { Logger } from '../telemetry/logger.js';

/**
 * KIP-558's active topics of one task: the topics it used (a sink: committed records of;
 * a source: had records acknowledged in) since the connector's set was last reset. One
 * key per topic in the connector's namespace: the worker's checkpoint store standalone,
 * the status topic in cluster mode. The set known is loaded once per task and a topic is
 * written only the first time the task uses it, so the hot path costs a set lookup.
 */
export class ActiveTopics {
  private known: Set<string> | undefined;

  constructor(
    private readonly store: CheckpointStore,
    private readonly connector: string,
    private readonly task: number,
    private readonly log: Logger,
  ) {}

  /** Records the topics not recorded yet. Tracking never stops a task: a failed write is logged and tried again next time. */
  async note(topics: Iterable<string>): Promise<void> {
    try {
      const namespace = namespaces.activeTopics(this.connector);
      this.known ??= new Set(Object.keys(await this.store.read(namespace)));
      const known = this.known;
      const fresh = [...new Set(topics)].filter((t) => !known.has(t));
      if (fresh.length === 0) return;
      await this.store.write(namespace, Object.fromEntries(fresh.map((topic) => [topic, { task: this.task, discovered: Date.now() }])));
      for (const topic of fresh) known.add(topic);
    } catch (err) {
      this.log.warn({ err }, 'recording the active topics failed; retried with the next batch');
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
