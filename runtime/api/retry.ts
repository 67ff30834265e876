/**
 * The one retry helper of the runtime and the connectors: a delay policy (Backoff) and
 * a loop (retry) that asks the caller, per failure, whether to go on.
 */

/**
 * Exponential backoff, capped: the n-th delay is initialMs·2^(n−1), at most maxMs,
 * scaled down at random by up to `jitter` (0: exact delays; 0.5: half to all of it).
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly initialMs = 200,
    private readonly maxMs = 10_000,
    private readonly jitter = 0.5,
  ) {}

  get attempts(): number {
    return this.attempt;
  }

  next(): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** this.attempt);
    this.attempt++;
    return Math.round(ceiling * (1 - this.jitter * Math.random()));
  }

  reset(): void {
    this.attempt = 0;
  }
}

export interface RetryPolicy {
  /**
   * Called with each failure and how many there were so far (from 1): true retries,
   * false rethrows it. May throw instead, e.g. a clearer error once it gives up.
   */
  retryable(err: unknown, failures: number): boolean;
  /** How long to wait before the next attempt (a Backoff, or one adapted to a budget). */
  delays: { next(): number };
  /** Called before each wait, e.g. to log or count the failure. */
  onRetry?(err: unknown, failures: number, delayMs: number): void;
  /** Aborting ends a wait at once, with the signal's reason. */
  signal?: AbortSignal;
  /** Checked before each wait and after it: true rethrows the last failure (e.g. the work was given up meanwhile). */
  givenUp?(): boolean;
}

/** Runs `work` until it succeeds or the policy stops retrying. */
export async function retry<T>(work: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  for (let failures = 1; ; failures++) {
    policy.signal?.throwIfAborted();
    try {
      return await work();
    } catch (err) {
      if (!policy.retryable(err, failures) || policy.givenUp?.()) throw err;
      const delayMs = policy.delays.next();
      policy.onRetry?.(err, failures, delayMs);
      await wait(delayMs, policy.signal);
      if (policy.givenUp?.()) throw err;
    }
  }
}

function wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', abort);
      resolve();
    }, ms);
    const abort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', abort, { once: true });
  });
}
