import type { PartitionState } from './partition-state.js';

/**
 * The partitions whose open bundles to close now so that the task's open bundles
 * together hold at most `budget` bytes: the largest first, until the rest fit. Memory
 * then grows with tasks, not with partitions × bundle size. Partitions rebuilding a
 * range fixed before a crash are neither closed (its boundaries are fixed) nor counted
 * (they are few and bounded: bundles that were being uploaded); fenced ones hold
 * nothing that is written.
 */
export function overBudget(states: Iterable<PartitionState>, budget: number): PartitionState[] {
  let total = 0;
  const closable: PartitionState[] = [];
  for (const state of states) {
    const bytes = state.writer.bufferedBytes;
    if (bytes === 0 || state.fenced || state.writer.rebuilding) continue;
    total += bytes;
    closable.push(state);
  }
  if (total <= budget) return [];
  closable.sort((a, b) => b.writer.bufferedBytes - a.writer.bufferedBytes);
  const closing: PartitionState[] = [];
  for (const state of closable) {
    if (total <= budget) break;
    closing.push(state);
    total -= state.writer.bufferedBytes;
  }
  return closing;
}
