/**
 * The nemesis' S3 fault proxy (test/nemesis/s3-fault-proxy.ts) in front of the stack's real
 * S3Proxy, driven by a plain AWS SDK client with one attempt per call, so every answer the
 * proxy gives reaches the test as it is: bodies of many MB stream through signed requests
 * untouched, each misbehaviour fails the way S3 itself would, and healing restores service.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { S3FaultProxy } from '../nemesis/s3-fault-proxy.js';
import { listKeys, s3Client } from '../helpers/s3.js';
import { uniqueName } from '../helpers/tmp.js';
import { freePort } from '../helpers/worker-process.js';

const MiB = 2 ** 20;
const bucket = uniqueName('fault-proxy');

let proxy: S3FaultProxy;
let viaProxy: S3Client;
const direct = s3Client();

function clientOf(endpoint: string, secretAccessKey = inject('stack').s3SecretKey): S3Client {
  const stack = inject('stack');
  return new S3Client({
    endpoint,
    region: stack.s3Region,
    forcePathStyle: true,
    credentials: { accessKeyId: stack.s3AccessKey, secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });
}

async function read(client: S3Client, key: string): Promise<Buffer> {
  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await got.Body!.transformToByteArray());
}

function put(key: string, body: Buffer | string = 'small'): Promise<unknown> {
  return viaProxy.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

async function failureOf(call: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number }; code?: string }> {
  const outcome = await call.then(
    () => undefined,
    (err: unknown) => err as Error,
  );
  if (!outcome) throw new Error('the call succeeded where it should have failed');
  return outcome;
}

async function existsDirectly(key: string): Promise<boolean> {
  const outcome = await direct.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
    () => true,
    (err: S3ServiceException) => err.$metadata.httpStatusCode,
  );
  if (outcome !== true && outcome !== 404) throw new Error(`HEAD ${key} answered ${outcome}`);
  return outcome === true;
}

beforeAll(async () => {
  proxy = await S3FaultProxy.start(inject('stack').s3Endpoint);
  viaProxy = clientOf(proxy.endpoint);
  await viaProxy.send(new CreateBucketCommand({ Bucket: bucket }));
});
afterEach(() => proxy.heal());
afterAll(async () => {
  viaProxy?.destroy();
  direct.destroy();
  await proxy?.close();
});

describe('S3FaultProxy passing requests through', () => {
  it('streams a 6 MB object both ways under a signature S3Proxy verifies against the Host the client signed', async () => {
    const body = randomBytes(6 * MiB);
    await put('pass/six', body);
    expect((await read(viaProxy, 'pass/six')).equals(body)).toBe(true);
    expect((await read(direct, 'pass/six')).equals(body)).toBe(true);
    // The server does check signatures, so the ones above held with the Host header passed on unchanged.
    const forged = clientOf(proxy.endpoint, 'not-the-secret');
    const err = await failureOf(forged.send(new HeadBucketCommand({ Bucket: bucket })));
    expect(err.$metadata?.httpStatusCode).toBe(403);
    forged.destroy();
  });

  it('carries a 12 MB multipart upload in 5 MiB parts', async () => {
    const body = randomBytes(12 * MiB);
    const forwardedBefore = proxy.counts.forwarded;
    await new Upload({ client: viaProxy, params: { Bucket: bucket, Key: 'pass/multipart', Body: body }, partSize: 5 * MiB, queueSize: 2 }).done();
    // Create, three parts, complete.
    expect(proxy.counts.forwarded - forwardedBefore).toBe(5);
    expect((await read(direct, 'pass/multipart')).equals(body)).toBe(true);
  });
});

describe('S3FaultProxy misbehaving', () => {
  it('error 503 answers SlowDown to a 3 MB upload itself, and the object is never written', async () => {
    proxy.set({ kind: 'error', status: 503, fraction: 1 });
    const before = { ...proxy.counts };
    const err = await failureOf(put('error/slow-down', randomBytes(3 * MiB)));
    expect(err.name).toBe('SlowDown');
    expect((err as S3ServiceException).$metadata.httpStatusCode).toBe(503);
    expect(err.message).toBe('Please reduce your request rate.');
    expect(proxy.counts.slowDowns503).toBe(before.slowDowns503 + 1);
    expect(proxy.counts.forwarded).toBe(before.forwarded);
    expect(await existsDirectly('error/slow-down')).toBe(false);
  });

  it('error 500 answers InternalError', async () => {
    proxy.set({ kind: 'error', status: 500, fraction: 1 });
    const before = proxy.counts.errors500;
    const err = await failureOf(read(viaProxy, 'pass/six'));
    expect(err.name).toBe('InternalError');
    expect(err.$metadata?.httpStatusCode).toBe(500);
    expect(proxy.counts.errors500).toBe(before + 1);
  });

  it('fraction 0.5 fails exactly every second request since set, and only those are left unwritten', async () => {
    proxy.set({ kind: 'error', status: 503, fraction: 0.5 });
    const failed: number[] = [];
    for (let i = 1; i <= 20; i++) await put(`half/${String(i).padStart(2, '0')}`).catch(() => failed.push(i));
    expect(failed).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18, 20]);
    const written = (await listKeys(direct, bucket, 'half/')).map((key) => Number(key.slice('half/'.length)));
    expect(written).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
  });

  it('slow holds each request for at least the delay before forwarding it', async () => {
    proxy.set({ kind: 'slow', delayMs: 300 });
    const before = proxy.counts.delayed;
    const started = performance.now();
    await put('slow/one');
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
    expect(proxy.counts.delayed).toBe(before + 1);
    expect(await existsDirectly('slow/one')).toBe(true);
  });

  it('reset drops the connection with no answer, for an upload under way and for a GET', async () => {
    proxy.set({ kind: 'reset', fraction: 1 });
    const before = proxy.counts.resets;
    for (const call of [() => put('reset/upload', randomBytes(2 * MiB)), () => read(viaProxy, 'pass/six')]) {
      const err = await failureOf(call());
      // A network error: no HTTP status, nothing an S3 server said.
      expect(err).not.toBeInstanceOf(S3ServiceException);
      expect(err.$metadata?.httpStatusCode).toBeUndefined();
      expect(`${err.code} ${err.message}`).toMatch(/ECONNRESET|EPIPE|socket hang up/);
    }
    expect(proxy.counts.resets).toBe(before + 2);
    expect(await existsDirectly('reset/upload')).toBe(false);
  });

  it('heal serves every request again after each kind of misbehaviour', async () => {
    for (const mode of [
      { kind: 'error', status: 503, fraction: 1 },
      { kind: 'reset', fraction: 1 },
    ] as const) {
      proxy.set(mode);
      await failureOf(put('heal/before'));
      proxy.heal();
      await put('heal/after', 'healed');
      expect((await read(viaProxy, 'heal/after')).toString()).toBe('healed');
    }
  });
});

describe('S3FaultProxy with its server down', () => {
  it('answers 502 while nothing listens on the target, and forwards again, Host unchanged, once something does', async () => {
    const port = await freePort();
    const orphan = await S3FaultProxy.start(`http://127.0.0.1:${port}`);
    const client = clientOf(orphan.endpoint);
    try {
      for (let i = 0; i < 2; i++) {
        const err = await failureOf(client.send(new PutObjectCommand({ Bucket: bucket, Key: 'down/put', Body: randomBytes(MiB) })));
        expect(err.$metadata?.httpStatusCode).toBe(502);
        expect(err.name).toBe('BadGateway');
      }
      expect(orphan.counts.unreachable).toBe(2);
      const hostsSeen: (string | undefined)[] = [];
      const standIn = createServer((req, res) => {
        hostsSeen.push(req.headers.host);
        res.writeHead(200);
        res.end();
      });
      await new Promise<void>((listening) => standIn.listen(port, '127.0.0.1', listening));
      try {
        const head = await client.send(new HeadBucketCommand({ Bucket: bucket }));
        expect(head.$metadata.httpStatusCode).toBe(200);
        // The Host the client signed, not the target's.
        expect(hostsSeen).toEqual([`127.0.0.1:${orphan.port}`]);
      } finally {
        standIn.closeAllConnections();
        await new Promise((closed) => standIn.close(closed));
      }
    } finally {
      client.destroy();
      await orphan.close();
    }
  });
});
