import type { TopicPartition } from '../../runtime/api/index.js';
import { DurableChain } from './durable-chain.js';
import { PartitionWriter, type BundleLimits, type OpenBundle } from './partition-writer.js';
import type { RecoveryPlan } from './recovery.js';

/** Everything BackupSink keeps for one partition it backs up. */
export interface PartitionState {
  tp: TopicPartition;
  writer: PartitionWriter<OpenBundle>;
  chain: DurableChain;
  uploads: Set<Promise<void>>;
  /** Claims are made in offset order, each after the one before: true while every claim so far was granted. */
  claimed: Promise<boolean>;
  /** The store holds a range of the partition; until then the first claim also fixes the partition's first range. */
  anchored: boolean;
  /** The anchor last saved for the partition. */
  savedAnchor: bigint | undefined;
  /** Given up (revoked, lost, stopping): nothing more is claimed, retried or sealed. */
  closing: boolean;
  /** Another writer claimed a range first: this state stops, and the partition is planned again from the store. */
  fenced: boolean;
}

/** A partition's state as recovery planned it: the writer and the chain start where the store says. */
export function newPartitionState(
  tp: TopicPartition,
  limits: BundleLimits,
  recovery: RecoveryPlan,
  uploads: Set<Promise<void>>,
  openBundle: (expectedBytes: number) => OpenBundle,
): PartitionState {
  const chain = new DurableChain(recovery.start, recovery.anchor);
  for (const range of recovery.plan) chain.add(range.start, range.end, range.durable);
  return {
    tp,
    writer: new PartitionWriter(tp, limits, recovery.start, recovery.plan, openBundle),
    chain,
    uploads,
    claimed: Promise.resolve(true),
    anchored: recovery.anchored,
    savedAnchor: undefined,
    closing: false,
    fenced: false,
  };
}
