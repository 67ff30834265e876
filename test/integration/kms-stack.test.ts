/**
 * The local stack's KMS server (moto with KMS's key-state rules, test/stack/kms.ts) behaves
 * as envelope encryption needs AWS KMS to: a data key wrapped by GenerateDataKey unwraps to
 * the same bytes, and a disabled or deleted key refuses to unwrap, with KMS's error names.
 * Uses the AWS SDK's KMS client only, so it checks the server, not coldstore's code.
 */
import {
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  GenerateDataKeyCommand,
  ScheduleKeyDeletionCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { createAlias, createKmsKey, kmsClient, kmsEndpoint, uniqueAliasName } from '../helpers/kms.js';

async function wrappedDataKey(client: KMSClient, keyId: string): Promise<{ plaintext: Uint8Array; blob: Uint8Array }> {
  const answer = await client.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' }));
  if (!answer.Plaintext || !answer.CiphertextBlob) throw new Error('GenerateDataKey answered no key');
  return { plaintext: answer.Plaintext, blob: answer.CiphertextBlob };
}

/** The name of the error `promise` rejects with, or "no error". */
async function errorName(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'no error';
  } catch (err) {
    return (err as Error).name;
  }
}

describe('the local stack KMS server', () => {
  const client = kmsClient();

  it('listens on loopback and creates keys with their id and ARN', async () => {
    expect(new URL(kmsEndpoint()).hostname).toBe('127.0.0.1');
    const key = await createKmsKey('kms-stack test: create');
    expect(key.keyId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(key.arn).toBe(`arn:aws:kms:us-east-1:123456789012:key/${key.keyId}`);
    const { KeyMetadata: metadata } = await client.send(new DescribeKeyCommand({ KeyId: key.arn }));
    expect(metadata?.Description).toBe('kms-stack test: create');
    expect(metadata?.KeyState).toBe('Enabled');
  });

  it('unwraps a 256-bit data key to the bytes GenerateDataKey gave, also through an alias', async () => {
    const key = await createKmsKey();
    const alias = await createAlias(uniqueAliasName('kms-stack'), key.keyId);
    const { plaintext, blob } = await wrappedDataKey(client, alias);
    expect(plaintext).toHaveLength(32);
    expect(Buffer.from(blob).includes(Buffer.from(plaintext))).toBe(false);

    const decrypted = await client.send(new DecryptCommand({ CiphertextBlob: blob }));
    expect(Buffer.from(decrypted.Plaintext!).equals(Buffer.from(plaintext))).toBe(true);
    expect(decrypted.KeyId).toBe(key.arn);
  });

  it('refuses to unwrap with a disabled key (DisabledException), and again after EnableKey', async () => {
    const key = await createKmsKey();
    const { plaintext, blob } = await wrappedDataKey(client, key.keyId);
    await client.send(new DisableKeyCommand({ KeyId: key.keyId }));

    expect(await errorName(client.send(new DecryptCommand({ CiphertextBlob: blob })))).toBe('DisabledException');
    expect(await errorName(wrappedDataKey(client, key.keyId))).toBe('DisabledException');

    await client.send(new EnableKeyCommand({ KeyId: key.keyId }));
    const decrypted = await client.send(new DecryptCommand({ CiphertextBlob: blob }));
    expect(Buffer.from(decrypted.Plaintext!).equals(Buffer.from(plaintext))).toBe(true);
  });

  it("refuses a data key of a key pending deletion, while other keys' data keys still unwrap", async () => {
    const deleted = await createKmsKey('kms-stack test: deleted');
    const kept = await createKmsKey('kms-stack test: kept');
    const deletedKeys = await wrappedDataKey(client, deleted.keyId);
    const keptKeys = await wrappedDataKey(client, kept.keyId);
    await client.send(new ScheduleKeyDeletionCommand({ KeyId: deleted.keyId, PendingWindowInDays: 7 }));

    const refused = await errorName(client.send(new DecryptCommand({ CiphertextBlob: deletedKeys.blob })));
    expect(refused).toBe('KMSInvalidStateException');
    const decrypted = await client.send(new DecryptCommand({ CiphertextBlob: keptKeys.blob }));
    expect(Buffer.from(decrypted.Plaintext!).equals(Buffer.from(keptKeys.plaintext))).toBe(true);
  });

  it('refuses a blob whose bytes were changed (InvalidCiphertextException)', async () => {
    const key = await createKmsKey();
    const { blob } = await wrappedDataKey(client, key.keyId);
    const tampered = Uint8Array.from(blob);
    tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 0xff;
    expect(await errorName(client.send(new DecryptCommand({ CiphertextBlob: tampered })))).toBe('InvalidCiphertextException');
  });
});
