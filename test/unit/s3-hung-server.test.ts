/**
 * An S3 server that takes a connection and then says nothing (a paused process, a
 * half-open network path) must fail the request, which the task then retries, rather
 * than hold it forever: the AWS SDK only logs a warning when requestTimeout passes unless
 * told to throw, and has no idle timeout on a response body unless given one.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TransientStoreError } from '../../connectors/common/object-store/object-store.js';
import { S3ObjectStore } from '../../connectors/common/object-store/s3-object-store.js';

let server: Server | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
});

async function storeAgainst(handler: Parameters<typeof createServer>[1]): Promise<S3ObjectStore> {
  server = createServer(handler);
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return new S3ObjectStore({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: 'us-east-1',
    pathStyle: true,
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    checksums: 'when_required',
    multipartThresholdBytes: 16 * 2 ** 20,
    partSizeBytes: 8 * 2 ** 20,
    timeoutsMs: { request: 300, idle: 300 },
  });
}

describe('S3ObjectStore against a server that stops answering', () => {
  it('a request without an answer fails as transient (retried by the task), not a hang', async () => {
    let requests = 0;
    const store = await storeAgainst(() => void requests++);
    const err = await store.putIfAbsent('bucket', 'key', Buffer.from('body'), {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientStoreError);
    expect((err as Error).message).toContain('requestTimeout');
    // The SDK tried each of its attempts before giving the error to coldstore's own retries.
    expect(requests).toBe(3);
  }, 20_000);

  it('a response body that stops half-way fails as transient too', async () => {
    const store = await storeAgainst((_req, res) => {
      res.writeHead(200, { 'content-length': '1000', 'content-type': 'application/octet-stream' });
      res.write(Buffer.alloc(100));
    });
    await expect(store.get('bucket', 'key')).rejects.toBeInstanceOf(TransientStoreError);
  }, 20_000);
});
