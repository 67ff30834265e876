/** The outcome of one readiness check. */
export interface CheckResult {
  ok: boolean;
  /** Why it is not ok (or what was checked). */
  message?: string;
}

/**
 * A check that costs a round trip (a Kafka metadata request, an S3 HEAD), bounded for a
 * probe that may be polled often: it runs at most once per `intervalMs` (callers in
 * between get the last result), callers during a run share it, and a run that takes
 * longer than `timeoutMs` is aborted and counts as failed.
 */
export class CachedCheck {
  private last: { at: number; result: CheckResult } | undefined;
  private running: Promise<CheckResult> | undefined;

  constructor(
    private readonly work: (signal: AbortSignal) => Promise<void>,
    private readonly intervalMs: number,
    private readonly timeoutMs: number,
  ) {}

  result(): Promise<CheckResult> {
    if (this.last && Date.now() - this.last.at < this.intervalMs) return Promise.resolve(this.last.result);
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<CheckResult> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new Error(`no answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
    });
    let result: CheckResult;
    try {
      await Promise.race([this.work(controller.signal), timeout]);
      result = { ok: true };
    } catch (err) {
      result = { ok: false, message: (err as Error)?.message ?? String(err) };
    } finally {
      clearTimeout(timer);
    }
    this.last = { at: Date.now(), result };
    return result;
  }
}
