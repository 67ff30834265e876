import type { BufferVerdict, SinkBufferBudget } from '../api/sink.js';

/** How long a task asked to close buffers has to answer before the others stop counting on it. */
const ANSWER_WAIT_MS = 5_000;

/** One sink task's share of the ledger. */
interface Holder {
  /** The sizes of its open buffers that could close, the largest first, as last reported. */
  open: number[];
  /** Holds some of the largest buffers worker-wide while over budget: its runner asks it to report again. */
  asked: boolean;
  askedAt: number;
  /** Asked and silent for ANSWER_WAIT_MS (e.g. retrying a put): counted, but no longer relied on to close. */
  overdue: boolean;
}

/** A task's handle on the ledger: the budget its context offers, and what its runner needs. */
export interface SinkBufferShare extends SinkBufferBudget {
  /** The task should report again (SinkTask.releaseBuffers) at its runner's next turn. */
  readonly asked: boolean;
  /** The task ended: what it held is gone. */
  leave(): void;
}

const sum = (sizes: number[]) => sizes.reduce((a, b) => a + b, 0);

/**
 * The worker's ledger of bytes its sink tasks hold in open buffers (sink.buffer.max.bytes).
 * Past the budget the largest buffers worker-wide close first: the reporting task closes
 * its own at once; another task holding larger ones is asked through its runner, between
 * its puts, and the reporter waits for it (so it is not forced into small buffers while an
 * idle task holds big ones). Under the budget nothing closes.
 */
export class SinkBufferLedger {
  private readonly holders = new Set<Holder>();
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly maxBytes: number,
    private readonly answerWaitMs = ANSWER_WAIT_MS,
  ) {}

  /** Bytes the worker's sink tasks hold in open buffers, as last reported. */
  get totalBytes(): number {
    let total = 0;
    for (const holder of this.holders) total += sum(holder.open);
    return total;
  }

  /** A share for one task; its runner watches `asked` between puts. */
  join(): SinkBufferShare {
    const holder: Holder = { open: [], asked: false, askedAt: 0, overdue: false };
    this.holders.add(holder);
    return {
      maxBytes: this.maxBytes,
      get asked() {
        return holder.asked;
      },
      report: (open) => this.report(holder, open),
      leave: () => {
        this.holders.delete(holder);
        this.wakeWaiters();
      },
    };
  }

  private report(holder: Holder, open: readonly number[]): BufferVerdict {
    if (!this.holders.has(holder)) return { close: 0 }; // the task's runner ended; what it held is gone
    holder.open = [...open].sort((a, b) => b - a);
    holder.overdue = false;
    if (holder.asked) {
      holder.asked = false;
      this.wakeWaiters();
    }
    const picks = this.largestFirst(holder);
    const close = picks.get(holder) ?? 0;
    holder.open = holder.open.slice(close);
    for (const other of picks.keys()) if (other !== holder) this.ask(other);
    // Still over: some other task was asked and has not closed yet.
    if (this.totalBytes > this.maxBytes && [...this.holders].some((h) => h.asked && !h.overdue)) return { close, settled: this.settled() };
    return { close };
  }

  /**
   * How many buffers of each task to close so the worker fits: the largest first, worker-wide;
   * on equal sizes the reporter's (it can close at once). Overdue tasks' buffers count but are not picked.
   */
  private largestFirst(reporter: Holder): Map<Holder, number> {
    let total = this.totalBytes;
    const picks = new Map<Holder, number>();
    if (total <= this.maxBytes) return picks;
    const candidates = [...this.holders]
      .filter((h) => !h.overdue)
      .flatMap((h) => h.open.map((bytes) => ({ h, bytes })))
      .sort((a, b) => b.bytes - a.bytes || Number(b.h === reporter) - Number(a.h === reporter));
    for (const { h, bytes } of candidates) {
      if (total <= this.maxBytes) break;
      picks.set(h, (picks.get(h) ?? 0) + 1);
      total -= bytes;
    }
    return picks;
  }

  private ask(holder: Holder): void {
    if (holder.asked) return;
    holder.asked = true;
    holder.askedAt = Date.now();
    this.wakeWaiters();
  }

  /**
   * Resolves when a task asked to close answers or ends, when another is asked (maybe the
   * waiter itself), or after answerWaitMs: then the tasks asked before the wait began and
   * still silent become overdue, and the next report closes the reporter's own buffers.
   */
  private settled(): Promise<void> {
    const since = Date.now();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(() => {
        for (const h of this.holders) if (h.asked && h.askedAt <= since) h.overdue = true;
        done();
      }, this.answerWaitMs);
      timer.unref?.();
      this.waiters.add(done);
    });
  }

  private wakeWaiters(): void {
    for (const wake of [...this.waiters]) wake();
  }
}
