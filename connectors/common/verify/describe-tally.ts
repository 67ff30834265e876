import type { BundleSummary, PartitionSummary } from './describe-backup.js';

/** One partition's figures while a backup is described. */
export interface PartitionTally {
  topic: string;
  summary: PartitionSummary;
  bundles: BundleSummary[];
}

export interface Described {
  partitions: Map<string, PartitionTally>;
  foreignObjects: number;
}

export function tallyFor(described: Described, topic: string, partition: number): PartitionTally {
  const id = `${topic}/${partition}`;
  let tally = described.partitions.get(id);
  if (!tally) {
    tally = { topic, bundles: [], summary: { partition, objects: 0, records: 0, bytes: 0, firstOffset: null, lastOffset: null } };
    described.partitions.set(id, tally);
  }
  return tally;
}
