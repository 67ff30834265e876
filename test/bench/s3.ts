/** The bench's own S3 client on the stack's S3Proxy: bucket set-up and clean-up, object sizes. */
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';

export { stackS3Client as s3Client, stackS3Settings as s3Settings } from '../stack/s3-access.js';

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
