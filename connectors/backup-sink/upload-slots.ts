import { RetriableError } from '../../runtime/api/index.js';

/**
 * Bounds the bundles a task has in flight (claim, encode, upload): put() waits for a
 * free slot, but not longer than `maxWaitMs`, then hands its batch back to the
 * runtime as retriable (which pauses consumption and keeps the group membership).
 */
export class UploadSlots {
  private used = 0;
  private freed: (() => void) | undefined;

  constructor(
    private readonly limit: number,
    private readonly maxWaitMs: number,
  ) {}

  take(): void {
    this.used++;
  }

  release(): void {
    this.used--;
    this.wake();
  }

  /** Ends a wait early (the task stops, or failed). */
  wake(): void {
    this.freed?.();
  }

  /** Resolves once a slot is free; `check` runs after each wake-up (e.g. to throw a failure). */
  async waitForOne(check: () => void): Promise<void> {
    const deadline = Date.now() + this.maxWaitMs;
    while (this.used >= this.limit) {
      const left = deadline - Date.now();
      if (left <= 0) throw new RetriableError(`${this.used} bundle uploads still in flight; waiting for the store before taking more records`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.freed = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      check();
    }
  }
}

/** Waits for the work to settle, but not longer than `ms` (what is not done by then goes on unwaited). */
export function settleWithin(ms: number, work: Promise<unknown>[]): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([Promise.allSettled(work).then(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, ms)))]).finally(() =>
    clearTimeout(timer),
  );
}
