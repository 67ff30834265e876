import type { TaskStateStore, TopicPartition } from '../../runtime/api/index.js';
import { tpKey } from '../../runtime/api/index.js';

export interface Intent {
  start: bigint;
  end: bigint;
}

interface StoredIntent {
  start: string;
  end: string;
}

const keyOf = (tp: TopicPartition) => `intents/${tpKey(tp)}`;

/**
 * Write-ahead intents: a bundle's exact boundaries, stored durably before its
 * upload starts and removed once it is in the store, so a crash in between
 * rebuilds the same bundle. Kept in the connector's shared state because a
 * partition may move to another task. Each partition's list is mirrored in
 * memory and written whole, so writes in flight cannot lose one another.
 */
export class IntentLog {
  private readonly mirror = new Map<string, Intent[]>();

  constructor(private readonly state: TaskStateStore) {}

  async load(tp: TopicPartition): Promise<Intent[]> {
    const stored = (await this.state.get<StoredIntent[]>(keyOf(tp))) ?? [];
    const intents = stored.map((i) => ({ start: BigInt(i.start), end: BigInt(i.end) })).sort((a, b) => (a.start < b.start ? -1 : 1));
    this.mirror.set(tpKey(tp), intents);
    return intents;
  }

  private save(tp: TopicPartition): Promise<void> {
    const intents = this.mirror.get(tpKey(tp)) ?? [];
    if (intents.length === 0) return this.state.delete(keyOf(tp));
    return this.state.put(keyOf(tp), intents.map((i) => ({ start: i.start.toString(), end: i.end.toString() })));
  }

  async record(tp: TopicPartition, intent: Intent): Promise<void> {
    const list = this.mirror.get(tpKey(tp)) ?? [];
    if (!list.some((i) => i.start === intent.start)) list.push(intent);
    this.mirror.set(tpKey(tp), list);
    await this.save(tp);
  }

  /** Forgets the intents starting at these offsets (their bundles are durable). */
  async forget(tp: TopicPartition, starts: readonly bigint[]): Promise<void> {
    const list = this.mirror.get(tpKey(tp)) ?? [];
    const next = list.filter((i) => !starts.includes(i.start));
    if (next.length === list.length) return;
    this.mirror.set(tpKey(tp), next);
    await this.save(tp);
  }

  release(tp: TopicPartition): void {
    this.mirror.delete(tpKey(tp));
  }
}
