// An S3-compatible server answering 501 NotImplemented (docs/errors.md STORE_UNSUPPORTED):
// a permanent error naming the operation and what to do, never retried as transient.
// Real HTTP: a tiny in-test S3 server refuses one operation.
import { afterEach, describe, expect, it } from 'vitest';
import { ColdstoreError, ErrorCodes, RetriableError } from '../../runtime/api/index.js';
import { S3ObjectStore } from '../../connectors/common/object-store/s3-object-store.js';
import { retryTransient } from '../../connectors/common/object-store/object-store.js';
import { BundleUploader } from '../../connectors/backup-sink/bundle-uploader.js';
import { PartialS3, s3StoreAt } from '../helpers/partial-s3.js';

let server: PartialS3 | undefined;

afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function storeRefusing(refuse: ConstructorParameters<typeof PartialS3>[0]): Promise<S3ObjectStore> {
  server = new PartialS3(refuse);
  const endpoint = await server.start();
  return s3StoreAt(endpoint);
}

async function rejection(work: Promise<unknown>): Promise<unknown> {
  return work.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
}

const silentLog = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined } as never;

describe('S3 501 NotImplemented is permanent', () => {
  it('a conditional PUT answered 501: STORE_UNSUPPORTED naming the operation, the server answer and what to do; not transient', async () => {
    const store = await storeRefusing((r) => r.method === 'PUT' && r.conditional);
    const err = await rejection(retryTransient('write a bundle', () => store.putIfAbsent('b', 'topic/0/x', Buffer.from('x'), {})));
    expect(err).toBeInstanceOf(ColdstoreError);
    expect(err).not.toBeInstanceOf(RetriableError);
    expect((err as ColdstoreError).code).toBe(ErrorCodes.STORE_UNSUPPORTED);
    const message = (err as Error).message;
    expect(message).toMatch(/does not implement S3 conditional-PUT b\/topic\/0\/x/);
    expect(message).toMatch(/HTTP 501 NotImplemented/);
    expect(message).toMatch(/not implemented/); // the server's own words
    expect(message).toMatch(/If-None-Match/);
    expect(message).toMatch(/Use a server that implements it/);
    // A plain PUT on the same server still works: only the refused operation fails.
    await store.put('b', 'plain', Buffer.from('y'), {});
    expect(server!.seen.some((r) => r.method === 'PUT' && !r.conditional && r.path === '/b/plain')).toBe(true);
  });

  it('a LIST answered 501 fails the same way, naming ListObjectsV2', async () => {
    const store = await storeRefusing((r) => r.method === 'GET' && /^\/b\/?$/.test(r.path));
    const err = await rejection(
      (async () => {
        for await (const _ of store.list('b', 'topic/')) void _;
      })(),
    );
    expect((err as ColdstoreError).code).toBe(ErrorCodes.STORE_UNSUPPORTED);
    expect((err as Error).message).toMatch(/LIST b\/topic\/.*ListObjectsV2/s);
  });

  it('the bundle uploader does not retry it: the upload rejects with STORE_UNSUPPORTED after one store call', async () => {
    const store = await storeRefusing((r) => r.method === 'PUT' && r.conditional);
    const uploader = new BundleUploader({
      store,
      location: { bucket: 'b', prefix: '' },
      gzipLevel: 1,
      // Far more than the test waits for: a retried 501 would hang here.
      permanentErrorRetries: 1_000_000,
      log: silentLog,
      metrics: { add: () => undefined, record: () => undefined, set: () => undefined },
      stopped: () => false,
    });
    let calls = 0;
    const err = await rejection(
      uploader.withRetries('upload a bundle', () => {
        calls++;
        return store.putIfAbsent('b', 'topic/0/y', Buffer.from('y'), {});
      }),
    );
    expect((err as ColdstoreError).code).toBe(ErrorCodes.STORE_UNSUPPORTED);
    expect(calls).toBe(1);
  });

  it('lifecycle rules answered 501 still mean "not supported" (the connector goes on without them)', async () => {
    const store = await storeRefusing((r) => r.method === 'PUT' && /^\/b\/?$/.test(r.path));
    expect(await store.setLifecycle('b', [{ id: 'r', prefix: '', expireAfterDays: 1 }])).toEqual({ supported: false });
  });
});
