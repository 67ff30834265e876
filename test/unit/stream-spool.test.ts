import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StreamSpool } from '../../connectors/backup-sink/azul/stream-spool.js';
import { BundleUploader } from '../../connectors/backup-sink/bundle-uploader.js';
import { BackupLocation, type Location } from '../../connectors/common/backup-location.js';
import type { StreamRef } from '../../connectors/layouts/azul/event-fields.js';
import { streamKey } from '../../connectors/layouts/azul/keys.js';
import { azulLayout } from '../../connectors/layouts/azul/layout.js';
import { LocalObjectStore } from '../../connectors/common/object-store/local-object-store.js';
import type { ObjectMetadata } from '../../connectors/common/object-store/object-store.js';
import { parseStreamKey, sourcesIn } from '../../connectors/restore-source/dispatcher/backup-objects.js';
import { ColdstoreError } from '../../runtime/api/index.js';
import { ignoredMetrics, MemoryDispatcher, quietLog, testArchiver } from '../helpers/azul-verify-fixture.js';

const ref = { source: 'src', label: 'content', sha256: 'a'.repeat(64) };
const newStore = () => new LocalObjectStore(mkdtempSync(join(tmpdir(), 'spool-store-')));
const dedicated: Location = { bucket: 'streams', prefix: '' };
const shared: Location = { bucket: 'everything', prefix: 'streams/' };
const spoolOf = (store: LocalObjectStore, location = dedicated, connector = 'backup') => new StreamSpool({ store, location, connector });

describe('StreamSpool', () => {
  it('takes concurrent failures of one stream (two tasks, or a retry beside a new range) without losing the entry', async () => {
    const spool = spoolOf(newStore());
    await Promise.all(Array.from({ length: 20 }, (_, i) => spool.add(ref, `failure ${i}`)));
    const entries = await spool.entries();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ ...ref });
    expect(entries[0]!.attempts).toBeGreaterThanOrEqual(1);
  });

  it('keeps a failure across instances (another task or worker), counts attempts, and forgets it once removed', async () => {
    const store = newStore();
    await spoolOf(store).add(ref, 'first');
    await spoolOf(store).add({ ...ref, size: 42 }, 'second');
    const [entry] = await spoolOf(store).entries();
    expect(entry).toEqual({ ...ref, size: 42, attempts: 2, firstFailedAt: expect.any(String), lastError: 'second' });
    await spoolOf(store).remove(ref);
    expect(await spoolOf(store).entries()).toEqual([]);
    // Two tasks draining the same entry: the second removal finds nothing and is fine.
    await spoolOf(store).remove(ref);
  });

  it.each([
    ['a dedicated streams bucket', dedicated],
    ['a shared bucket', shared],
  ])('in %s, writes one object per stream under the reserved prefix, with a format and the body sha256', async (_, location) => {
    const store = newStore();
    const spool = spoolOf(store, location, 'my-backup');
    await spool.add(ref, 'dispatcher down');
    const prefix = `${location.prefix}~coldstore/spool/my-backup/`;
    expect(spool.description).toBe(`${location.bucket}/${prefix}`);
    const keys: string[] = [];
    for await (const { key } of store.list(location.bucket, '')) keys.push(key);
    const key = `${prefix}${ref.sha256}.src.content.json`;
    expect(keys).toEqual([key]);
    const object = (await store.get(location.bucket, key))!;
    const body = JSON.parse(object.body.toString('utf8')) as Record<string, unknown>;
    expect(body).toMatchObject({ format: 'coldstore-spool-v1', ...ref, attempts: 1, lastError: 'dispatcher down' });
    expect(object.metadata).toEqual<ObjectMetadata>({
      'coldstore-format': 'coldstore-spool-v1',
      'coldstore-body-sha256': createHash('sha256').update(object.body).digest('hex'),
    });
  });

  it("sees only its connector's entries, skips objects that are not spool entries, and has none in a new bucket", async () => {
    const store = newStore();
    expect(await spoolOf(store).entries()).toEqual([]);
    await spoolOf(store, dedicated, 'other').add(ref, 'elsewhere');
    await store.put(dedicated.bucket, `~coldstore/spool/backup/${ref.sha256}.src.content.json`, Buffer.from('{"format":"something-else"}'), {});
    await store.put(dedicated.bucket, `~coldstore/spool/backup/${'b'.repeat(64)}.src.content.json`, Buffer.from('not json'), {});
    expect(await spoolOf(store).entries()).toEqual([]);
    expect(await spoolOf(store, dedicated, 'other').entries()).toHaveLength(1);
  });

  it('spool entries are never taken for backup data by a restore or by the layout', async () => {
    const store = newStore();
    for (const location of [dedicated, shared]) {
      await store.ensureBucket(location.bucket);
      await store.put(location.bucket, `${location.prefix}src/content/${ref.sha256}`, Buffer.from('blob'), {});
      await spoolOf(store, location).add({ ...ref, sha256: 'c'.repeat(64) }, 'down');
      expect(await sourcesIn(store, location, [])).toEqual(['src']);
    }
    const key = `~coldstore/spool/backup/${'c'.repeat(64)}.src.content.json`;
    expect(parseStreamKey(key)).toBeUndefined();
    expect(azulLayout.classify(key)).toEqual({ kind: 'own' });
  });
});

describe('StreamArchiver with the spool in the store', () => {
  const uploaderOn = (store: LocalObjectStore, location: Location) =>
    new BundleUploader({ store, location, gzipLevel: 1, permanentErrorRetries: 0, log: quietLog, metrics: ignoredMetrics, stopped: () => false });

  /** A dispatcher whose downloads fail while `down` is set. */
  class FlakyDispatcher extends MemoryDispatcher {
    down = true;
    override async getStream(r: StreamRef): Promise<Buffer | undefined> {
      if (this.down) throw new Error('connection refused');
      return super.getStream(r);
    }
  }

  it('spools a failed download in the streams location, and a later pass (any task) stores the blob and removes the entry', async () => {
    const store = newStore();
    const dispatcher = new FlakyDispatcher();
    const blob = dispatcher.add('content', Buffer.from('the blob'));
    expect(await testArchiver({ dispatcher, uploader: uploaderOn(store, shared) }).archive([blob])).toEqual(['spooled']);
    const spool = spoolOf(store, shared, 'fixture');
    expect(await spool.entries()).toMatchObject([{ ...blob, attempts: 1, lastError: 'connection refused' }]);

    dispatcher.down = false;
    const other = testArchiver({ dispatcher, uploader: uploaderOn(store, shared) });
    expect(await other.retrySpool()).toBe(0);
    expect(await spool.entries()).toEqual([]);
    expect(await store.head(shared.bucket, BackupLocation.of(shared).key(streamKey(blob)))).toBeDefined();
  });

  it('fails with STORE_IO naming the spool when the store refuses the entry: the events are not committed', async () => {
    const store = newStore();
    const refusing = Object.create(store) as LocalObjectStore;
    refusing.put = async (bucket: string, key: string, body: Buffer, metadata: ObjectMetadata) => {
      if (key.includes('~coldstore/spool/')) throw new Error('AccessDenied: writes to this prefix are denied');
      return store.put(bucket, key, body, metadata);
    };
    const dispatcher = new FlakyDispatcher();
    const blob = dispatcher.add('content', Buffer.from('the blob'));
    const failure = await testArchiver({ dispatcher, uploader: uploaderOn(refusing, dedicated) })
      .archive([blob])
      .catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ColdstoreError);
    expect((failure as ColdstoreError).code).toBe('STORE_IO');
    expect((failure as Error).message).toContain('cannot be spooled in streams/~coldstore/spool/fixture/');
    expect((failure as Error).message).toContain('AccessDenied');
    expect((failure as Error).message).toContain('the events that refer to it are not committed');
  });
});
