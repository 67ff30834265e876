import { Backoff, retry } from '../../runtime/api/index.js';
import { TransientStoreError } from '../common/object-store/object-store.js';

/**
 * A store that is briefly unreachable when a restore connector starts should not fail
 * it: retried in place for about a minute. (Tasks instead turn a transient store error
 * into a RetriableError with retryTransient, and the runtime retries them.)
 */
export function withStoreRetries<T>(work: () => Promise<T>): Promise<T> {
  return retry(work, { delays: new Backoff(1_000, 32_000, 0), retryable: (err, failures) => err instanceof TransientStoreError && failures < 7 });
}
