import { S3Client } from '@aws-sdk/client-s3';
import type { StackEndpoints } from './stack.js';

/** A plain SDK client on the stack's S3 server (or another one), independent of coldstore's object store code. */
export function stackS3Client(stack: StackEndpoints, endpoint?: string): S3Client {
  return new S3Client({
    endpoint: endpoint ?? stack.s3Endpoint,
    region: stack.s3Region,
    forcePathStyle: true,
    credentials: { accessKeyId: stack.s3AccessKey, secretAccessKey: stack.s3SecretKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** The connector settings that point a BackupSink or RestoreSource at the stack's S3 server. */
export function stackS3Settings(stack: StackEndpoints): Record<string, string> {
  return {
    'storage.type': 's3',
    's3.endpoint': stack.s3Endpoint,
    's3.region': stack.s3Region,
    's3.path.style': 'true',
    's3.access.key.id': stack.s3AccessKey,
    's3.secret.access.key': stack.s3SecretKey,
  };
}
