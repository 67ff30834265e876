import type { KafkaLog, LogRecord } from '../kafka/kafka-log.js';
import type { TransactionalWriter } from '../kafka/transactional-writer.js';
import type { CheckpointEntries, CheckpointStore } from './checkpoint-store.js';

interface Entry {
  /** undefined: deleted (the tombstone's position is kept so an older record cannot revive the key). */
  value: unknown;
  offset: bigint;
}

function encodeKey(namespace: string, key: string): Buffer {
  return Buffer.from(JSON.stringify({ ns: namespace, key }));
}

function decodeKey(raw: Buffer | null): { ns: string; key: string } | undefined {
  if (!raw || raw[0] !== 0x7b) return undefined;
  try {
    const parsed = JSON.parse(raw.toString('utf8')) as { ns?: unknown; key?: unknown };
    return typeof parsed.ns === 'string' && typeof parsed.key === 'string' ? { ns: parsed.ns, key: parsed.key } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Everything one compacted topic holds, by namespace and key, as this worker has read
 * it. Each key lives in one partition, so the record with the higher offset is the newer.
 * Records of other shapes (Kafka Connect's source offsets share the offsets topic) are skipped.
 */
export class StateTable {
  private readonly namespaces = new Map<string, Map<string, Entry>>();
  private readonly listeners = new Set<(namespace: string) => void>();

  apply(record: LogRecord): void {
    const id = decodeKey(record.key);
    if (!id) return;
    this.set(id.ns, id.key, record.value === null ? undefined : JSON.parse(record.value.toString('utf8')), record.offset);
  }

  set(namespace: string, key: string, value: unknown, offset: bigint): void {
    let entries = this.namespaces.get(namespace);
    if (!entries) this.namespaces.set(namespace, (entries = new Map()));
    const current = entries.get(key);
    if (current && current.offset >= offset) return;
    entries.set(key, { value, offset });
    for (const listener of this.listeners) listener(namespace);
  }

  entries(namespace: string): CheckpointEntries {
    const result: CheckpointEntries = {};
    for (const [key, entry] of this.namespaces.get(namespace) ?? []) if (entry.value !== undefined) result[key] = entry.value;
    return result;
  }

  get<T>(namespace: string, key: string): T | undefined {
    return this.namespaces.get(namespace)?.get(key)?.value as T | undefined;
  }

  namespacesStartingWith(prefix: string): string[] {
    return [...this.namespaces.keys()].filter((ns) => ns.startsWith(prefix) && Object.keys(this.entries(ns)).length > 0);
  }

  /** Called after each change with the namespace that changed. */
  onChange(listener: (namespace: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/**
 * The checkpoint store of cluster mode: a compacted Kafka topic read by every worker
 * into a StateTable. A write is one transaction of the writer it is made through (a
 * task's, the leader's, the worker's): atomic, and refused once a newer holder of the
 * same role has taken over. A read first catches up with the topic's end, so it sees
 * every write made before it, on any worker.
 */
export class KafkaCheckpointStore implements CheckpointStore {
  constructor(
    readonly table: StateTable,
    private readonly log: KafkaLog,
    private readonly writer: TransactionalWriter,
  ) {}

  /** The same table, written through another writer (a task's own, so a newer owner of the task fences this one). */
  withWriter(writer: TransactionalWriter): KafkaCheckpointStore {
    return new KafkaCheckpointStore(this.table, this.log, writer);
  }

  get topic(): string {
    return this.log.topic;
  }

  get transactionalId(): string {
    return this.writer.transactionalId;
  }

  /** Registers the writer's transactional id now: older holders of the role are fenced from here on. */
  fence(): Promise<void> {
    return this.writer.init();
  }

  async read(namespace: string): Promise<CheckpointEntries> {
    // Fencing first: whatever an older holder of this role left open is aborted before reading.
    await this.writer.init();
    await this.log.readToEnd();
    return this.table.entries(namespace);
  }

  async write(namespace: string, entries: Record<string, unknown | null>): Promise<void> {
    const keys = Object.keys(entries);
    if (keys.length === 0) return;
    const records = keys.map((key) => {
      const value = entries[key];
      return { key: encodeKey(namespace, key), value: value === null || value === undefined ? null : Buffer.from(JSON.stringify(value)) };
    });
    const deliveries = await this.writer.write(records);
    keys.forEach((key, i) => {
      const value = entries[key];
      this.table.set(namespace, key, value === null ? undefined : value, deliveries[i]!.offset);
    });
  }

  async drop(namespace: string): Promise<void> {
    const existing = await this.read(namespace);
    await this.write(namespace, Object.fromEntries(Object.keys(existing).map((k) => [k, null])));
  }

  async list(prefix: string): Promise<string[]> {
    await this.log.readToEnd();
    return this.table.namespacesStartingWith(prefix);
  }

  async close(): Promise<void> {
    await this.writer.close();
  }
}
