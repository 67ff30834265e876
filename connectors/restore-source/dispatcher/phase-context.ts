import type { TaskLogger, TaskMetrics } from '../../../runtime/api/index.js';
import { DispatcherError, type Dispatcher } from '../../common/dispatcher/dispatcher.js';
import type { ObjectStore } from '../../common/object-store/object-store.js';
import { BadObjectError, type BadObjects } from '../bad-object.js';
import type { Counts, ProgressStore } from './progress.js';
import type { RetryPolicy } from './retry.js';

/** What the stream and event phases of one run share. */
export interface PhaseContext {
  store: ObjectStore;
  dispatcher: Dispatcher;
  progress: ProgressStore;
  /** This run's view of the counts: the saved ones plus work done but not yet recorded (streams beyond a gap). */
  live: Counts;
  badObjects: BadObjects;
  /** restore.sources: empty for every source. */
  sources: readonly string[];
  maxInFlight: number;
  /** Stored sizes of the stream blobs held at once. */
  maxInFlightBytes: number;
  retry: RetryPolicy;
  log: TaskLogger;
  metrics: TaskMetrics;
}

/**
 * Restores one object; a bad object, or one the dispatcher refuses for good (4xx such as
 * 422), goes to on.bad.object: `fail` throws naming the key, `skip` reports it and gives 'bad'.
 */
export async function restoreObject<T>(ctx: PhaseContext, key: string, work: () => Promise<T>): Promise<T | 'bad'> {
  try {
    return await work();
  } catch (err) {
    const bad =
      err instanceof BadObjectError
        ? err
        : err instanceof DispatcherError && !err.transient
          ? new BadObjectError(
              'rejected',
              key,
              `the dispatcher ${err.status !== undefined && err.status >= 400 ? `refused it (HTTP ${err.status})` : 'gave no usable answer'}: ${err.message}`,
            )
          : undefined;
    if (!bad) throw err;
    ctx.badObjects.handle(bad);
    return 'bad';
  }
}
