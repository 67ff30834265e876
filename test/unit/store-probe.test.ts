// ObjectStore.probe, the store check of GET /ready (docs/rest-api.md, GET /ready):
// S3 over real HTTP (a tiny server answering a fixed status to HEAD bucket), the local store on disk.
import { s3StoreAt } from '../helpers/partial-s3.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../connectors/common/object-store/s3-object-store.js';
import { LocalObjectStore } from '../../connectors/common/object-store/local-object-store.js';
import { tmpDir } from '../helpers/tmp.js';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** An S3 endpoint answering `status` to every request, counting them. */
async function answering(status: number): Promise<{ endpoint: string; requests: string[] }> {
  const requests: string[] = [];
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(status);
    res.end();
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

function s3(endpoint: string): S3ObjectStore {
  return s3StoreAt(endpoint);
}

const signal = () => new AbortController().signal;

describe('S3 store probe', () => {
  it('a bucket that answers HEAD is ok, and so is a missing bucket (404: the connector creates it)', async () => {
    const ok = await answering(200);
    await s3(ok.endpoint).probe('events', signal());
    expect(ok.requests).toEqual(['HEAD /events/']);
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    const missing = await answering(404);
    await s3(missing.endpoint).probe('events', signal());
    expect(missing.requests[0]).toBe('HEAD /events/');
  });

  it('refused credentials fail it with the store, the bucket and the status', async () => {
    const { endpoint } = await answering(403);
    await expect(s3(endpoint).probe('events', signal())).rejects.toThrow(
      `S3 ${endpoint}, bucket events: access denied (HTTP 403): check s3.access.key.id, s3.secret.access.key and the bucket policy`,
    );
  });

  it('a 5xx answer fails it, with the status', async () => {
    const { endpoint } = await answering(503);
    await expect(s3(endpoint).probe('events', signal())).rejects.toThrow(new RegExp(`S3 ${endpoint}, bucket events: .*\\(HTTP 503\\)`));
  });

  it('a server that is not there fails it', async () => {
    const { endpoint } = await answering(200);
    server!.closeAllConnections();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    await expect(s3(endpoint).probe('events', signal())).rejects.toThrow(new RegExp(`S3 ${endpoint}, bucket events: `));
  });

  it('an aborted probe says it got no answer in time', async () => {
    const controller = new AbortController();
    server = createServer(() => undefined); // never answers
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const probing = s3(endpoint).probe('events', controller.signal);
    setTimeout(() => controller.abort(), 100);
    await expect(probing).rejects.toThrow(/bucket events: no answer in time/);
  });
});

describe('local store probe', () => {
  it('a root that does not exist yet is ok while the directory it will be created in is writable', async () => {
    await new LocalObjectStore(join(tmpDir('probe'), 'not', 'yet')).probe('b', signal());
  });

  it('a root below a file fails it, naming the store', async () => {
    const file = join(tmpDir('probe'), 'file');
    writeFileSync(file, 'x');
    await expect(new LocalObjectStore(join(file, 'root')).probe('b', signal())).rejects.toThrow(/local directory .*file\/root: /);
  });
});
