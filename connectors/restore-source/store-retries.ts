import { TransientStoreError } from '../shared/object-store/object-store.js';

/**
 * A store that is briefly unreachable when a restore connector starts should not fail
 * it: retried in place for about a minute. (Tasks instead turn a transient store error
 * into a RetriableError with retryTransient, and the runtime retries them.)
 */
export async function withStoreRetries<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (!(err instanceof TransientStoreError) || attempt >= 7) throw err;
      await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
    }
  }
}
