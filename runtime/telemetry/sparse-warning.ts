import type { Logger } from './logger.js';

/** A failure that recurs (a write retried every second): logged at most once per interval, with how often it happened since. */
export class SparseWarning {
  private lastAt = 0;
  private since = 0;

  constructor(
    private readonly log: Logger,
    private readonly message: string,
    private readonly everyMs = 30_000,
  ) {}

  report(err: unknown): void {
    this.since++;
    if (Date.now() - this.lastAt < this.everyMs) return;
    this.log.warn({ err, failures: this.since }, this.message);
    this.lastAt = Date.now();
    this.since = 0;
  }
}
