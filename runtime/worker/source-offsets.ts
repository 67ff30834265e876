import type { SourceOffsetEntry, SourcePartition } from '../api/records.js';
import type { KeyedMessage } from '../kafka/topic-reader.js';

/** A source partition's key in the checkpoint store: its JSON with keys sorted, so equal partitions share one key. */
export function sourcePartitionKey(partition: SourcePartition): string {
  return JSON.stringify(Object.fromEntries(Object.entries(partition).sort(([a], [b]) => (a < b ? -1 : 1))));
}

export type StoredSourceOffset = SourceOffsetEntry;

/**
 * The newest offset per source partition among these entries, keyed for the checkpoint
 * store. Consecutive entries usually share their partition object, so its key is
 * computed once per run of them, not once per record.
 */
export function latestOffsets(entries: Iterable<SourceOffsetEntry>): Record<string, StoredSourceOffset> {
  const latest: Record<string, StoredSourceOffset> = {};
  let partition: SourcePartition | undefined;
  let key = '';
  for (const e of entries) {
    if (e.partition !== partition) {
      partition = e.partition;
      key = sourcePartitionKey(partition);
    }
    latest[key] = { partition: e.partition, offset: e.offset };
  }
  return latest;
}

/**
 * The offsets topic's record format, as in Kafka Connect: key `["<connector>", {partition}]`,
 * value the offset as JSON, or no value once the offset was reset. Written in the same
 * transaction as the records in exactly-once mode, so it is the truth after a crash.
 */
export const offsetsTopicFormat = {
  encode(connector: string, entry: { partition: SourcePartition; offset: SourceOffsetEntry['offset'] | null }): KeyedMessage {
    return {
      key: Buffer.from(`[${JSON.stringify(connector)},${sourcePartitionKey(entry.partition)}]`),
      value: entry.offset === null ? null : Buffer.from(JSON.stringify(entry.offset)),
    };
  },
  /** This connector's current offsets (null: reset) from the topic's messages in order. */
  decode(connector: string, messages: KeyedMessage[]): Record<string, StoredSourceOffset | null> {
    const offsets: Record<string, StoredSourceOffset | null> = {};
    for (const m of messages) {
      if (!m.key) continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(m.key.toString('utf8'));
      } catch {
        continue;
      }
      if (!Array.isArray(parsed) || parsed[0] !== connector || typeof parsed[1] !== 'object' || parsed[1] === null) continue;
      const partition = parsed[1] as SourcePartition;
      offsets[sourcePartitionKey(partition)] = m.value ? { partition, offset: JSON.parse(m.value.toString('utf8')) } : null;
    }
    return offsets;
  },
};
