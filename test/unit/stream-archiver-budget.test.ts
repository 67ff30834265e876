import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BundleUploader } from '../../connectors/backup-sink/bundle-uploader.js';
import type { Dispatcher } from '../../connectors/common/dispatcher/dispatcher.js';
import type { StreamRef } from '../../connectors/layouts/azul/event-fields.js';
import { streamKey } from '../../connectors/layouts/azul/keys.js';
import { LocalObjectStore } from '../../connectors/common/object-store/local-object-store.js';
import { ignoredMetrics, quietLog, testArchiver } from '../helpers/azul-verify-fixture.js';

/** Serves blobs after a short wait and tracks the declared bytes of the downloads running at once. */
function slowDispatcher(blobs: Map<string, Buffer>, sizeOf: Map<string, number>) {
  let running = 0;
  const levels = new Set<number>();
  const dispatcher: Dispatcher = {
    description: 'slow in-memory dispatcher',
    async getStream(ref: StreamRef) {
      const key = streamKey(ref);
      running += sizeOf.get(key)!;
      levels.add(running);
      await new Promise((r) => setTimeout(r, 20));
      running -= sizeOf.get(key)!;
      return blobs.get(key);
    },
    hasStream: async (ref) => blobs.has(streamKey(ref)),
    postStream: () => Promise.reject(new Error('a backup never posts streams')),
    postEvents: () => Promise.reject(new Error('a backup never posts events')),
  };
  return { dispatcher, levels };
}

describe('StreamArchiver', () => {
  it('keeps the declared bytes of streams in flight within streams.max.in.flight.bytes, copying a larger blob alone', async () => {
    const blobs = new Map<string, Buffer>();
    const sizeOf = new Map<string, number>();
    const refs: StreamRef[] = [];
    for (const [i, size] of [40, 40, 40, 40, 250, 40, 40].entries()) {
      const bytes = Buffer.alloc(size, i);
      const ref = { source: 'src', label: 'content', sha256: createHash('sha256').update(bytes).digest('hex'), size };
      blobs.set(streamKey(ref), bytes);
      sizeOf.set(streamKey(ref), size);
      refs.push(ref);
    }
    const { dispatcher, levels } = slowDispatcher(blobs, sizeOf);
    const store = new LocalObjectStore(mkdtempSync(join(tmpdir(), 'archiver-store-')));
    const location = { bucket: 'streams', prefix: '' };
    await store.ensureBucket(location.bucket);
    const archiver = testArchiver({
      dispatcher,
      uploader: new BundleUploader({ store, location, gzipLevel: 1, permanentErrorRetries: 0, log: quietLog, metrics: ignoredMetrics, stopped: () => false }),
      maxInFlight: 10,
      maxInFlightBytes: 100,
    });

    expect(await archiver.archive(refs)).toEqual(refs.map(() => 'stored'));
    // Two 40-byte blobs fit in 100 bytes, three do not; the 250-byte one ran with nothing beside it.
    expect([...levels].sort((a, b) => a - b)).toEqual([40, 80, 250]);
    for (const ref of refs) expect(await store.head(location.bucket, streamKey(ref))).toBeDefined();
  });
});
