/**
 * The stack's KMS server (moto, test/stack/kms.ts) through the AWS SDK's own KMS client,
 * independent of coldstore's key provider code. moto accepts any credentials and keeps
 * keys in memory only, so each test creates the keys it uses.
 */
import { randomBytes } from 'node:crypto';
import { CreateAliasCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { inject } from 'vitest';

/** Static and fake: moto checks no signature, and a test must never pick up real AWS credentials. */
export const KMS_TEST_CREDENTIALS = { accessKeyId: 'coldstore-test', secretAccessKey: 'coldstore-test-secret' } as const;
export const KMS_TEST_REGION = 'us-east-1';

export function kmsEndpoint(): string {
  return inject('stack').kmsEndpoint;
}

/** A plain SDK client on the stack's KMS server (or another endpoint), for GenerateDataKey, Decrypt, DisableKey… */
export function kmsClient(endpoint: string = kmsEndpoint()): KMSClient {
  return new KMSClient({ endpoint, region: KMS_TEST_REGION, credentials: KMS_TEST_CREDENTIALS });
}

export interface CreatedKmsKey {
  keyId: string;
  arn: string;
}

/** A new symmetric encryption key (AES-256, the KMS default), enabled. */
export async function createKmsKey(description = 'coldstore test key', client: KMSClient = kmsClient()): Promise<CreatedKmsKey> {
  const { KeyMetadata: metadata } = await client.send(new CreateKeyCommand({ Description: description }));
  if (!metadata?.KeyId || !metadata.Arn) throw new Error(`CreateKey answered no key id or ARN: ${JSON.stringify(metadata)}`);
  return { keyId: metadata.KeyId, arn: metadata.Arn };
}

/**
 * Points `name` (with or without its `alias/` prefix) at `keyId`; returns the full alias name.
 * Aliases are unique per server and the server is shared, so tests should pass `uniqueAliasName()`.
 */
export async function createAlias(name: string, keyId: string, client: KMSClient = kmsClient()): Promise<string> {
  const aliasName = name.startsWith('alias/') ? name : `alias/${name}`;
  await client.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: keyId }));
  return aliasName;
}

export function uniqueAliasName(prefix = 'coldstore-test'): string {
  return `alias/${prefix}-${Date.now()}-${randomBytes(4).toString('hex')}`;
}
