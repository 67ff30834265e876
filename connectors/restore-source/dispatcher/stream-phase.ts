import type { Location } from '../../common/backup-location.js';
import { forEachBounded, Limiter } from '../../common/bounded.js';
import { BadObjectError } from '../bad-object.js';
import { restoreMetrics } from '../metrics.js';
import { fetchStreamBlob, parseStreamKey, sourcesIn } from './backup-objects.js';
import { restoreObject, type PhaseContext } from './phase-context.js';
import { countStream, type StreamOutcome } from './progress.js';
import { callWithRetries } from './retry.js';
import { ContiguousWatermark } from './watermark.js';

/**
 * Uploads every stream blob of the chosen sources, up to dispatcher.max.in.flight at
 * once and dispatcher.max.in.flight.bytes of them by stored size, each checked against
 * its key's sha256 first. Each source lists from its saved watermark on; the watermark
 * moves over the finished prefix of the listing only, so a restart redoes only uploads
 * from the oldest one unfinished when it stopped (uploading a blob again is harmless:
 * the dispatcher keeps it by its sha256).
 */
export async function restoreStreams(ctx: PhaseContext, location: Location): Promise<void> {
  const sources = await sourcesIn(ctx.store, location, ctx.sources);
  const marks = new Map(sources.map((s) => [s, new ContiguousWatermark<StreamOutcome>(ctx.progress.saved.streams[s])]));
  async function* listed() {
    for (const source of sources) {
      for await (const item of ctx.store.list(location.bucket, `${location.prefix}${source}/`, marks.get(source)!.watermark))
        yield { source, key: item.key, size: item.size };
    }
  }
  const memory = new Limiter(Number.POSITIVE_INFINITY, ctx.maxInFlightBytes);
  await forEachBounded(listed(), ctx.maxInFlight, async ({ source, key, size }) => {
    ctx.retry.signal.throwIfAborted();
    const mark = marks.get(source)!;
    mark.start(key);
    const outcome = await restoreObject(ctx, key, () => memory.run(() => uploadStream(ctx, location, key), size));
    ctx.metrics.add(restoreMetrics.dispatcherStreams, 1, { source, result: outcome === 'posted' ? 'ok' : 'bad' });
    countStream(ctx.live, outcome);
    const passed = mark.finish(key, outcome);
    if (passed.length === 0) return;
    await ctx.progress.update((saved) => {
      saved.streams[source] = mark.watermark!;
      for (const p of passed) countStream(saved.counts, p.outcome);
      saved.skipped = [...ctx.badObjects.reported];
    });
  });
}

async function uploadStream(ctx: PhaseContext, location: Location, key: string): Promise<'posted'> {
  const ref = parseStreamKey(key.slice(location.prefix.length));
  if (!ref) throw new BadObjectError('foreign', key, 'not a stream key <source>/<label>/<sha256>');
  const blob = await fetchStreamBlob(ctx.store, location, key, ref);
  await callWithRetries(`upload of stream ${key}`, () => ctx.dispatcher.postStream(ref, blob), ctx.retry);
  return 'posted';
}
