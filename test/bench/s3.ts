/** The bench's own S3 client on the stack's S3Proxy: bucket set-up and clean-up, object sizes. */
import {
  CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, S3Client,
} from '@aws-sdk/client-s3';
import type { StackEndpoints } from '../stack/stack.js';

export function s3Client(stack: StackEndpoints): S3Client {
  return new S3Client({
    endpoint: stack.s3Endpoint,
    region: stack.s3Region,
    forcePathStyle: true,
    credentials: { accessKeyId: stack.s3AccessKey, secretAccessKey: stack.s3SecretKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** The connector settings pointing a BackupSink or RestoreSource at the stack's S3 server. */
export function s3Settings(stack: StackEndpoints): Record<string, string> {
  return {
    'storage.type': 's3',
    's3.endpoint': stack.s3Endpoint,
    's3.region': stack.s3Region,
    's3.path.style': 'true',
    's3.access.key.id': stack.s3AccessKey,
    's3.secret.access.key': stack.s3SecretKey,
  };
}

export interface BucketUsage {
  objects: number;
  bytes: number;
}

async function listAll(client: S3Client, bucket: string): Promise<{ Key: string; Size: number }[]> {
  const out: { Key: string; Size: number }[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const item of page.Contents ?? []) out.push({ Key: item.Key!, Size: item.Size ?? 0 });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** Objects and bytes in a bucket, leaving out coldstore's restore metadata (`~coldstore/`). */
export async function bucketUsage(client: S3Client, bucket: string): Promise<BucketUsage> {
  const objects = (await listAll(client, bucket).catch(() => [])).filter((o) => !o.Key.includes('~coldstore/'));
  return { objects: objects.length, bytes: objects.reduce((n, o) => n + o.Size, 0) };
}

export async function createBucket(client: S3Client, bucket: string): Promise<void> {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
}

/** Deletes a bucket and everything in it; a missing bucket is fine. */
export async function deleteBucket(client: S3Client, bucket: string): Promise<void> {
  let objects: { Key: string }[];
  try {
    objects = await listAll(client, bucket);
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchBucket') return;
    throw err;
  }
  for (let i = 0; i < objects.length; i += 1000) {
    const batch = objects.slice(i, i + 1000).map((o) => ({ Key: o.Key }));
    await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch, Quiet: true } }));
  }
  await client.send(new DeleteBucketCommand({ Bucket: bucket })).catch((err: { name?: string }) => {
    if (err.name !== 'NoSuchBucket') throw err;
  });
}
