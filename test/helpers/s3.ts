import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { inject } from 'vitest';
import { stackS3Client, stackS3Settings } from '../stack/s3-access.js';

/** A plain SDK client on the test S3 server (or another one), independent of coldstore's object store code. */
export function s3Client(endpoint?: string): S3Client {
  return stackS3Client(inject('stack'), endpoint);
}

/** The connector settings that point a BackupSink at the test S3 server. */
export function s3Settings(): Record<string, string> {
  return stackS3Settings(inject('stack'));
}

export interface FetchedObject {
  key: string;
  body: Buffer;
  metadata: Record<string, string>;
}

/** How many records bundles hold, by their `coldstore-records` metadata. */
export function recordCount(objects: readonly { metadata: Record<string, string> }[]): number {
  return objects.reduce((n, o) => n + Number(o.metadata['coldstore-records'] ?? 0), 0);
}

export async function listKeys(client: S3Client, bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const item of page.Contents ?? []) keys.push(item.Key!);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** Every bundle of the bucket (restore metadata under `~coldstore/` left out), with body and metadata. */
export function fetchAll(client: S3Client, bucket: string, prefix = ''): Promise<FetchedObject[]> {
  return fetchObjects(client, bucket, prefix, (key) => !key.includes('~coldstore/'));
}

/** Every object under the prefix that `wanted` accepts, with body and metadata. */
export async function fetchObjects(client: S3Client, bucket: string, prefix = '', wanted: (key: string) => boolean = () => true): Promise<FetchedObject[]> {
  const out: FetchedObject[] = [];
  for (const key of await listKeys(client, bucket, prefix)) {
    if (!wanted(key)) continue;
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    out.push({ key, body: Buffer.from(await got.Body!.transformToByteArray()), metadata: head.Metadata ?? {} });
  }
  return out;
}
