/**
 * Resume point of work started in key order and finished in any order (parallel
 * uploads): the watermark is the last key of the finished prefix, so every key at or
 * before it is done and a restart lists from there with StartAfter. Work finished
 * beyond a gap is held, with its outcome, until the gap closes.
 */
export class ContiguousWatermark<T> {
  private readonly started: string[] = [];
  private head = 0;
  private readonly unfinished = new Set<string>();
  private readonly finished = new Map<string, T>();

  constructor(private mark: string | undefined) {}

  /** Every key at or before it is done; undefined: none yet. */
  get watermark(): string | undefined {
    return this.mark;
  }

  /** Keys started and not yet under the watermark. */
  get pending(): number {
    return this.started.length - this.head;
  }

  /** Keys must start in strictly ascending order, after the watermark. */
  start(key: string): void {
    const last = this.pending > 0 ? this.started[this.started.length - 1] : this.mark;
    if (last !== undefined && key <= last) throw new Error(`key ${key} started out of order (after ${last})`);
    this.started.push(key);
    this.unfinished.add(key);
  }

  /** Marks a started key done; returns the keys (with outcomes) the watermark moved over, in order. */
  finish(key: string, outcome: T): { key: string; outcome: T }[] {
    if (!this.unfinished.delete(key)) throw new Error(`key ${key} finished but not pending`);
    this.finished.set(key, outcome);
    const passed: { key: string; outcome: T }[] = [];
    while (this.head < this.started.length && this.finished.has(this.started[this.head]!)) {
      const done = this.started[this.head++]!;
      passed.push({ key: done, outcome: this.finished.get(done)! });
      this.finished.delete(done);
      this.mark = done;
    }
    if (this.head > 1024 && this.head * 2 > this.started.length) {
      this.started.splice(0, this.head);
      this.head = 0;
    }
    return passed;
  }
}
