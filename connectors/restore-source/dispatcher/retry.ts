import { setTimeout as sleep } from 'node:timers/promises';
import { ColdstoreError, ErrorCodes, type TaskLogger } from '../../../runtime/api/index.js';
import { DispatcherError } from '../../shared/dispatcher/dispatcher.js';

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
export async function callWithRetries<T>(what: string, call: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    policy.signal.throwIfAborted();
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof DispatcherError) || !err.transient) throw err;
      const waited = Date.now() - started;
      if (waited >= policy.maxMs) {
        throw new ColdstoreError(
          ErrorCodes.DISPATCHER_FAILED,
          `${what} still failed after ${attempt} attempts in ${Math.round(waited / 1000)} s (dispatcher.retry.max.ms=${policy.maxMs}): ${err.message}. ` +
            'Check that the dispatcher is up and reachable, then restart the task: it resumes where it stopped.',
          { cause: err },
        );
      }
      const delayMs = Math.round(Math.min(30_000, 500 * 2 ** (attempt - 1), policy.maxMs - waited) * (0.75 + Math.random() * 0.25));
      policy.log.warn({ reason: err.message, status: err.status, attempt, retryInMs: delayMs }, `${what} failed; retrying`);
      policy.onRetry?.();
      await sleep(delayMs, undefined, { signal: policy.signal });
    }
  }
}
