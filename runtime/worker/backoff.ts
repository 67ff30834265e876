/** Exponential backoff with full jitter, capped: 1st retry after ~initial, then doubling up to max. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly initialMs = 200,
    private readonly maxMs = 10_000,
  ) {}

  get attempts(): number {
    return this.attempt;
  }

  next(): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** this.attempt);
    this.attempt++;
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  reset(): void {
    this.attempt = 0;
  }
}
