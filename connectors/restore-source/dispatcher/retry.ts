import { Backoff, ColdstoreError, ErrorCodes, retry, type TaskLogger } from '../../../runtime/api/index.js';
import { DispatcherError } from '../../common/dispatcher/dispatcher.js';

export interface RetryPolicy {
  /** How long transient failures of one call are retried (dispatcher.retry.max.ms). */
  maxMs: number;
  /** Stopping the task ends a wait at once. */
  signal: AbortSignal;
  log: TaskLogger;
  onRetry?: () => void;
}

/**
 * Calls the dispatcher, retrying transient DispatcherErrors (network, timeout, 429, 5xx)
 * with exponential backoff (0.5 s doubling up to 30 s) for up to `maxMs`; then fails with
 * DISPATCHER_FAILED naming `what`. Any other error is thrown as it is.
 */
export function callWithRetries<T>(what: string, call: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  const started = Date.now();
  const backoff = new Backoff(500, 30_000, 0.25);
  return retry(call, {
    // Never waits past the budget.
    delays: { next: () => Math.min(backoff.next(), Math.max(0, policy.maxMs - (Date.now() - started))) },
    retryable: (err, attempts) => {
      if (!(err instanceof DispatcherError) || !err.transient) return false;
      const waited = Date.now() - started;
      if (waited < policy.maxMs) return true;
      throw new ColdstoreError(
        ErrorCodes.DISPATCHER_FAILED,
        `${what} still failed after ${attempts} attempts in ${Math.round(waited / 1000)} s (dispatcher.retry.max.ms=${policy.maxMs}): ${err.message}. ` +
          'Check that the dispatcher is up and reachable, then restart the task: it resumes where it stopped.',
        { cause: err },
      );
    },
    onRetry: (err, attempt, retryInMs) => {
      const failure = err as DispatcherError;
      policy.log.warn({ reason: failure.message, status: failure.status, attempt, retryInMs }, `${what} failed; retrying`);
      policy.onRetry?.();
    },
    signal: policy.signal,
  });
}
