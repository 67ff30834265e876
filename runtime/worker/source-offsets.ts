import type { SourceOffset, SourcePartition } from '../api/records.js';

/** A source partition's key in the checkpoint store: its JSON with keys sorted, so equal partitions share one key. */
export function sourcePartitionKey(partition: SourcePartition): string {
  return JSON.stringify(Object.fromEntries(Object.entries(partition).sort(([a], [b]) => (a < b ? -1 : 1))));
}

export interface StoredSourceOffset {
  partition: SourcePartition;
  offset: SourceOffset;
}
