import type { PutObjectCommand } from '@aws-sdk/client-s3';
import { sha256Hex } from '../sha256.js';

/**
 * Signs a PUT with the body's sha256 worked out on the threadpool: the SDK's SigV4
 * signer uses an `x-amz-content-sha256` the request already has, and would otherwise
 * hash the whole body on the event loop.
 */
export async function withPayloadHash(command: PutObjectCommand, body: Uint8Array): Promise<PutObjectCommand> {
  const payloadSha256 = await sha256Hex(body);
  command.middlewareStack.add(
    (next) => (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers) request.headers['x-amz-content-sha256'] = payloadSha256;
      return next(args);
    },
    { step: 'build', name: 'coldstorePayloadHash' },
  );
  return command;
}
