import type { SinkBufferBudget } from '../../runtime/api/index.js';
import type { PartitionState } from './partition-state.js';
import type { SealedBundle } from './partition-writer.js';

/**
 * The partitions whose open bundles could close early, the largest first. Partitions
 * rebuilding a range fixed before a crash are neither closed (its boundaries are fixed)
 * nor counted (they are few and bounded: bundles that were being uploaded); fenced ones
 * hold nothing that is written.
 */
function closableLargestFirst(states: Iterable<PartitionState>): PartitionState[] {
  const closable = [...states].filter((s) => s.writer.bufferedBytes > 0 && !s.fenced && !s.writer.rebuilding);
  return closable.sort((a, b) => b.writer.bufferedBytes - a.writer.bufferedBytes);
}

/**
 * The partitions whose open bundles to close now so that the task's open bundles
 * together hold at most `budget` bytes (bundle.open.max.bytes): the largest first, until
 * the rest fit. Memory then grows with tasks, not with partitions × bundle size.
 */
export function overBudget(states: Iterable<PartitionState>, budget: number): PartitionState[] {
  const closable = closableLargestFirst(states);
  let total = closable.reduce((sum, s) => sum + s.writer.bufferedBytes, 0);
  const closing: PartitionState[] = [];
  for (const state of closable) {
    if (total <= budget) break;
    closing.push(state);
    total -= state.writer.bufferedBytes;
  }
  return closing;
}

/**
 * Keeps a task's open bundles within its own cap (bundle.open.max.bytes) and its share
 * of the worker's (sink.buffer.max.bytes, shared with every sink task of the worker,
 * where the largest bundles worker-wide close first).
 */
export class OpenBytesBudgets {
  constructor(
    private readonly taskCap: number,
    private readonly worker: SinkBufferBudget,
    /** Uploads a bundle sealed early. */
    private readonly launch: (state: PartitionState, bundle: SealedBundle) => void,
  ) {}

  private closeEarly(state: PartitionState): void {
    for (const bundle of state.writer.sealBuffered()) this.launch(state, bundle);
  }

  /**
   * After a put, or when the worker asks (releaseBuffers): closes what either budget says.
   * While other tasks holding larger bundles are asked to close theirs, waits for them
   * (this task takes no more records meanwhile), then reports again.
   */
  async keepWithin(states: () => Iterable<PartitionState>): Promise<void> {
    for (const over of overBudget(states(), this.taskCap)) this.closeEarly(over);
    for (;;) {
      const settled = this.report(states());
      if (!settled) return;
      await settled;
    }
  }

  /** Tells the worker what is open now (e.g. after sealing or dropping bundles) and closes what it says; does not wait. */
  report(states: Iterable<PartitionState>): Promise<void> | undefined {
    const closable = closableLargestFirst(states);
    const verdict = this.worker.report(closable.map((s) => s.writer.bufferedBytes));
    for (const state of closable.slice(0, verdict.close)) this.closeEarly(state);
    return verdict.settled;
  }
}
