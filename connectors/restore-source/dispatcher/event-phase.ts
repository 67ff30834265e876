import type { Location } from '../../common/backup-location.js';
import { forEachBounded } from '../../common/bounded.js';
import { BadObjectError } from '../bad-object.js';
import { restoreMetrics } from '../metrics.js';
import { bundleModel, fetchEventBulk, sourcesIn } from './backup-objects.js';
import { restoreObject, type PhaseContext } from './phase-context.js';
import { countBundle, type BundleOutcome, type FailureReport } from './progress.js';
import { callWithRetries } from './retry.js';

/** The `<source>/<model>/<action>` groups of the events bucket, for the chosen sources. */
async function eventGroups(ctx: PhaseContext, location: Location): Promise<{ id: string; source: string }[]> {
  const groups: { id: string; source: string }[] = [];
  for (const source of await sourcesIn(ctx.store, location, ctx.sources)) {
    for (const model of await ctx.store.listDirectories(location.bucket, `${location.prefix}${source}/`)) {
      for (const action of await ctx.store.listDirectories(location.bucket, `${location.prefix}${source}/${model}/`))
        groups.push({ id: `${source}/${model}/${action}`, source });
    }
  }
  return groups;
}

/**
 * Posts every event bundle of the chosen sources as it was backed up (the stored bulk's
 * exact bytes): (source, model, action) groups up to dispatcher.max.in.flight at once,
 * each one bundle at a time in key order (keys begin with the RFC 3339 time, so: by day,
 * then key). A group lists after its last recorded bundle, and each bundle is recorded
 * once the dispatcher has answered.
 */
export async function restoreEvents(ctx: PhaseContext, location: Location): Promise<void> {
  await forEachBounded(await eventGroups(ctx, location), ctx.maxInFlight, async ({ id, source }) => {
    for await (const { key } of ctx.store.list(location.bucket, `${location.prefix}${id}/`, ctx.progress.saved.groups[id])) {
      ctx.retry.signal.throwIfAborted();
      const result = await restoreObject(ctx, key, () => postBundle(ctx, location, key, source));
      const outcome: BundleOutcome = result === 'bad' ? { kind: 'bad' } : result;
      countBundle(ctx.live, outcome);
      await ctx.progress.update((saved) => {
        saved.groups[id] = key;
        countBundle(saved.counts, outcome);
        saved.skipped = [...ctx.badObjects.reported];
      });
    }
  });
}

async function postBundle(ctx: PhaseContext, location: Location, key: string, source: string): Promise<BundleOutcome> {
  const model = bundleModel(key.slice(location.prefix.length));
  if (!model) throw new BadObjectError('foreign', key, 'not an azul event bundle key <source>/<model>/<action>/<time>-<count>-<kafka_key> of a known model');
  const { bulk, events } = await fetchEventBulk(ctx.store, location, key, model);
  const answer = await callWithRetries(`post of event bundle ${key}`, () => ctx.dispatcher.postEvents(model, bulk), ctx.retry);
  if (answer.kind === 'filtered') {
    ctx.metrics.add(restoreMetrics.dispatcherEvents, events, { source, result: 'filtered' });
    ctx.log.info(
      { key, events, errorEnum: answer.errorEnum, detail: answer.detail },
      'the dispatcher filtered out every event of the bundle (425); it counts as done',
    );
    return { kind: 'filtered', events };
  }
  ctx.metrics.add(restoreMetrics.dispatcherEvents, answer.totalOk, { source, result: 'ok' });
  if (answer.totalFailures > 0) {
    ctx.metrics.add(restoreMetrics.dispatcherEvents, answer.totalFailures, { source, result: 'fail' });
    const reports = answer.failures.map((f): FailureReport => ({ key, error: f.error, ...eventKey(f.event) }));
    ctx.log.warn(
      { key, accepted: answer.totalOk, failed: answer.totalFailures, failures: reports },
      'the dispatcher refused some events of the bundle; the others are restored',
    );
    ctx.progress.addFailures(reports);
  }
  return { kind: 'posted', ok: answer.totalOk, failed: answer.totalFailures };
}

/** How the dispatcher named the refused event: the event (its kafka_key), a key, or its index in the bulk. */
function eventKey(event: unknown): { event?: string } {
  if (typeof event === 'string') return { event };
  if (typeof event === 'number') return { event: `#${event}` };
  const key = (event as { kafka_key?: unknown } | null | undefined)?.kafka_key;
  return typeof key === 'string' ? { event: key } : {};
}
