/**
 * Envelope encryption around the real local store (docs/formats.md, "Encrypted objects";
 * docs/operations.md, "Encryption keys"): what is stored is ciphertext with its content
 * digests sealed, reads give back the plaintext, and each way an object can be unreadable
 * (a key gone, a key changed, a byte or a metadata value altered) is its own clear error.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EncryptingStore, UndecryptableObject } from '../../connectors/common/encryption/encrypting-store.js';
import { KeyringProvider, readKeyring } from '../../connectors/common/encryption/keyring.js';
import { LocalObjectStore } from '../../connectors/common/object-store/local-object-store.js';
import { storedBytes } from '../../connectors/common/object-store/object-store.js';
import { storeConfig } from '../../connectors/common/object-store/store-config.js';
import { validateStoreSettings } from '../../connectors/common/object-store/store-config.js';
import { MetadataName } from '../../connectors/layouts/metadata-names.js';
import { tmpDir } from '../helpers/tmp.js';

const MARKER = 'PLAINTEXT-MARKER-7f3a';
const BUCKET = 'b';

function writeKeyring(dir: string, active: string, keys: Record<string, Buffer>): string {
  const path = join(dir, `keyring-${active}-${randomBytes(3).toString('hex')}.json`);
  writeFileSync(path, JSON.stringify({ active, keys: Object.fromEntries(Object.entries(keys).map(([id, key]) => [id, key.toString('base64')])) }));
  return path;
}

function storeWith(root: string, keyringPath: string | undefined, encrypts = true): EncryptingStore {
  const keyring = keyringPath ? new KeyringProvider(keyringPath, encrypts) : undefined;
  return new EncryptingStore(new LocalObjectStore(root), encrypts ? keyring : undefined, new Map(keyring ? [['keyring', keyring]] : []));
}

/** The object file as stored on disk, and its stored metadata, bypassing the encryption. */
function raw(root: string, key: string) {
  const plain = new LocalObjectStore(root);
  return { plain, fetch: () => plain.get(BUCKET, key) };
}

const body = Buffer.from(`${MARKER} `.repeat(100));
const metadata = {
  [MetadataName.format]: 'kafka-v1',
  [MetadataName.bodySha256]: 'a'.repeat(64),
  [MetadataName.bodyBytes]: '1234',
  [MetadataName.firstOffset]: '10',
};

describe('EncryptingStore with a keyring', () => {
  const key1 = randomBytes(32);
  const key2 = randomBytes(32);

  it('stores ciphertext with the digest and sizes sealed, and reads back the plaintext and the whole metadata', async () => {
    const dir = tmpDir('enc-roundtrip');
    const store = storeWith(dir, writeKeyring(dir, 'k1', { k1: key1 }));
    expect((await store.putIfAbsent(BUCKET, 'x/bundle', body, metadata)).created).toBe(true);

    const stored = (await raw(dir, 'x/bundle').fetch())!;
    expect(stored.body.includes(Buffer.from(MARKER))).toBe(false);
    expect(stored.body.length).toBe(body.length + 16);
    expect(stored.metadata[MetadataName.bodySha256]).toBeUndefined();
    expect(stored.metadata[MetadataName.bodyBytes]).toBeUndefined();
    expect(JSON.stringify(stored.metadata)).not.toContain('a'.repeat(64));
    expect(stored.metadata).toMatchObject({
      [MetadataName.firstOffset]: '10',
      [MetadataName.encryptionKeyId]: 'k1',
      [MetadataName.encryptionProvider]: 'keyring',
    });

    const read = (await store.get(BUCKET, 'x/bundle'))!;
    expect(read.body.equals(body)).toBe(true);
    expect(storedBytes(read)).toBe(body.length + 16);
    expect(read.metadata).toMatchObject(metadata);
    expect((await store.head(BUCKET, 'x/bundle'))!.metadata).toMatchObject(metadata);
    expect([...store.usage.keys]).toEqual([['keyring:k1', 1]]);
  });

  it('two writes of the same plaintext differ on disk (fresh data key and nonce) yet a rebuild is recognised by its sealed digest', async () => {
    const dir = tmpDir('enc-rebuild');
    const store = storeWith(dir, writeKeyring(dir, 'k1', { k1: key1 }));
    await store.put(BUCKET, 'a', body, metadata);
    await store.put(BUCKET, 'b', body, metadata);
    expect((await raw(dir, 'a').fetch())!.body.equals((await raw(dir, 'b').fetch())!.body)).toBe(false);
    const again = await store.putIfAbsent(BUCKET, 'a', body, metadata);
    expect(again).toEqual({ created: false, existing: { size: body.length + 16, metadata: expect.objectContaining(metadata) } });
  });

  it('after a rotation new objects use the new active key and the old ones still read; verify-style usage lists both', async () => {
    const dir = tmpDir('enc-rotate');
    await storeWith(dir, writeKeyring(dir, 'k1', { k1: key1 })).put(BUCKET, 'old', body, metadata);
    const rotated = storeWith(dir, writeKeyring(dir, 'k2', { k1: key1, k2: key2 }));
    await rotated.put(BUCKET, 'new', body, metadata);
    expect((await raw(dir, 'new').fetch())!.metadata[MetadataName.encryptionKeyId]).toBe('k2');
    expect((await rotated.get(BUCKET, 'old'))!.body.equals(body)).toBe(true);
    expect((await rotated.get(BUCKET, 'new'))!.body.equals(body)).toBe(true);
    expect(Object.fromEntries(rotated.usage.keys)).toEqual({ 'keyring:k1': 1, 'keyring:k2': 1 });
  });

  it('a key no longer in the keyring: key-unavailable naming the key id, the object and the keys it has', async () => {
    const dir = tmpDir('enc-missing');
    await storeWith(dir, writeKeyring(dir, 'k1', { k1: key1 })).put(BUCKET, 'obj', body, metadata);
    const without = storeWith(dir, writeKeyring(dir, 'k2', { k2: key2 }));
    const err = await without.get(BUCKET, 'obj').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UndecryptableObject);
    expect(err).toMatchObject({ kind: 'key-unavailable', code: 'ENCRYPTION_KEY_UNAVAILABLE', keyId: 'k1' });
    expect((err as Error).message).toMatch(/^b\/obj needs keyring key "k1", which .* does not hold \(it has k2\)/);
  });

  it('a key id whose material changed: key-unavailable (the data key does not unwrap), never garbage', async () => {
    const dir = tmpDir('enc-wrong');
    await storeWith(dir, writeKeyring(dir, 'k1', { k1: key1 })).put(BUCKET, 'obj', body, metadata);
    const err = await storeWith(dir, writeKeyring(dir, 'k1', { k1: key2 }))
      .get(BUCKET, 'obj')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'key-unavailable', keyId: 'k1' });
    expect((err as Error).message).toContain('does not unwrap its data key');
  });

  it('no keyring configured: the object says which key and which setting it needs', async () => {
    const dir = tmpDir('enc-none');
    await storeWith(dir, writeKeyring(dir, 'k1', { k1: key1 })).put(BUCKET, 'obj', body, metadata);
    const err = await storeWith(dir, undefined, false)
      .get(BUCKET, 'obj')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'key-unavailable', keyId: 'k1' });
    expect((err as Error).message).toContain('set encryption.keyring.file');
  });

  it('one flipped byte of the body, or an altered visible metadata value, fails authentication: not-authentic', async () => {
    const dir = tmpDir('enc-tamper');
    const path = writeKeyring(dir, 'k1', { k1: key1 });
    const store = storeWith(dir, path);
    await store.put(BUCKET, 'body', body, metadata);
    await store.put(BUCKET, 'meta', body, metadata);
    const { plain } = raw(dir, 'body');
    const stored = (await plain.get(BUCKET, 'body'))!;
    stored.body[7]! ^= 0x01;
    await plain.put(BUCKET, 'body', stored.body, stored.metadata);
    const meta = (await plain.get(BUCKET, 'meta'))!;
    await plain.put(BUCKET, 'meta', meta.body, { ...meta.metadata, [MetadataName.firstOffset]: '11' });

    const fresh = storeWith(dir, path);
    for (const key of ['body', 'meta']) {
      const err = await fresh.get(BUCKET, key).catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: 'not-authentic', code: 'BACKUP_OBJECT_INVALID' });
      expect((err as Error).message).toContain(`b/${key} failed its authentication check`);
    }
    // The sealed metadata is bound too: HEAD of the metadata-altered object fails the same way.
    await expect(fresh.head(BUCKET, 'meta')).rejects.toMatchObject({ kind: 'not-authentic' });
  });

  it('a HEAD then a GET of one object unwrap its data key once (one KMS Decrypt, not two)', async () => {
    const dir = tmpDir('enc-cache');
    const keyring = new KeyringProvider(writeKeyring(dir, 'k1', { k1: key1 }), true);
    let unwraps = 0;
    const counting = {
      name: keyring.name,
      activeKeyId: keyring.activeKeyId,
      newDataKey: () => keyring.newDataKey(),
      unwrap: (id: string, w: Buffer) => (unwraps++, keyring.unwrap(id, w)),
    };
    const store = new EncryptingStore(new LocalObjectStore(dir), counting, new Map([['keyring', counting]]));
    await store.put(BUCKET, 'one', body, metadata);
    await store.put(BUCKET, 'two', body, metadata);
    await store.head(BUCKET, 'one');
    await store.get(BUCKET, 'one');
    await store.get(BUCKET, 'one');
    expect(unwraps).toBe(1);
    await store.get(BUCKET, 'two');
    expect(unwraps).toBe(2);
  });

  it("local store: an encrypted object left without metadata by a dead writer is never replaced behind a live writer's back: the rebuild sees it as there, without metadata (a conflict to resolve)", async () => {
    const dir = tmpDir('enc-orphan');
    const store = storeWith(dir, writeKeyring(dir, 'k1', { k1: key1 }));
    await store.put(BUCKET, 'orphan', body, metadata);
    await store.put(BUCKET, 'fresh', body, metadata);
    // What a kill -9 between the object's hard link and its metadata leaves.
    for (const key of ['orphan', 'fresh']) rmSync(join(dir, '.coldstore-meta', BUCKET, `${key}.json`));
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(dir, BUCKET, 'orphan'), old, old);

    for (const key of ['orphan', 'fresh']) {
      expect(await store.putIfAbsent(BUCKET, key, body, metadata)).toEqual({ created: false, existing: { size: body.length + 16, metadata: {} } });
    }
  });

  it('a malformed envelope (a short wrapped key, an unknown provider, a data key of the wrong size) is not-authentic, never an escaped crash', async () => {
    const dir = tmpDir('enc-malformed');
    const store = storeWith(dir, writeKeyring(dir, 'k1', { k1: key1 }));
    await store.put(BUCKET, 'obj', body, metadata);
    const { plain } = raw(dir, 'obj');
    const stored = (await plain.get(BUCKET, 'obj'))!;
    const changes: Record<string, string>[] = [{ [MetadataName.encryptionWrappedKey]: 'AAAA' }, { [MetadataName.encryptionProvider]: 'rot13' }];
    for (const change of changes) {
      await plain.put(BUCKET, 'bad', stored.body, { ...stored.metadata, ...change });
      await expect(storeWith(dir, writeKeyring(dir, 'k1', { k1: key1 })).get(BUCKET, 'bad')).rejects.toMatchObject({ kind: 'not-authentic' });
    }
    const shortKeys = {
      name: 'keyring',
      activeKeyId: undefined,
      newDataKey: () => Promise.reject(new Error('unused')),
      unwrap: () => Promise.resolve(randomBytes(16)),
    };
    const err = await new EncryptingStore(plain, undefined, new Map([['keyring', shortKeys]])).get(BUCKET, 'obj').catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'not-authentic', message: expect.stringContaining('16-byte data key') });
  });

  it('reads objects written before encryption was turned on as they are, and counts them', async () => {
    const dir = tmpDir('enc-plain');
    await new LocalObjectStore(dir).put(BUCKET, 'plain', body, metadata);
    const store = storeWith(dir, writeKeyring(dir, 'k1', { k1: key1 }));
    expect((await store.get(BUCKET, 'plain'))!.body.equals(body)).toBe(true);
    expect(store.usage.unencryptedObjects).toBe(1);
  });
});

describe('EncryptingStore read policy', () => {
  const key1 = randomBytes(32);

  it('encryption.require: a plaintext object (planted by a bucket writer) is not-authentic on GET and HEAD; encrypted ones read', async () => {
    const dir = tmpDir('enc-require');
    const keyring = new KeyringProvider(writeKeyring(dir, 'k1', { k1: key1 }), true);
    const store = new EncryptingStore(new LocalObjectStore(dir), keyring, new Map([['keyring', keyring]]), { requireEncrypted: true });
    await store.put(BUCKET, 'sealed', body, metadata);
    await new LocalObjectStore(dir).put(BUCKET, 'planted', body, metadata);
    expect((await store.get(BUCKET, 'sealed'))!.body.equals(body)).toBe(true);
    for (const read of [() => store.get(BUCKET, 'planted'), () => store.head(BUCKET, 'planted')]) {
      const err = await read().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UndecryptableObject);
      expect(err).toMatchObject({ kind: 'not-authentic', message: expect.stringMatching(/b\/planted is not encrypted, and encryption.require=true/) });
    }
    expect(store.usage.unencryptedObjects).toBe(0);
  });

  it('encryption.kms.allowed.keys: an object naming another KMS key is not-authentic before any KMS call', async () => {
    const dir = tmpDir('enc-allowed');
    const keyring = new KeyringProvider(writeKeyring(dir, 'k1', { k1: key1 }), true);
    await new EncryptingStore(new LocalObjectStore(dir), keyring, new Map([['keyring', keyring]])).put(BUCKET, 'obj', body, metadata);
    const plain = new LocalObjectStore(dir);
    const stored = (await plain.get(BUCKET, 'obj'))!;
    const theirs = 'arn:aws:kms:us-east-1:999999999999:key/0f0f0f0f-aaaa-bbbb-cccc-000000000000';
    await plain.put(BUCKET, 'foreign', stored.body, {
      ...stored.metadata,
      [MetadataName.encryptionProvider]: 'aws-kms',
      [MetadataName.encryptionKeyId]: theirs,
    });
    let unwraps = 0;
    const kms = {
      name: 'aws-kms',
      activeKeyId: undefined,
      newDataKey: () => Promise.reject(new Error('unused')),
      unwrap: () => (unwraps++, Promise.resolve(randomBytes(32))),
    };
    const ours = new Set(['arn:aws:kms:us-east-1:111111111111:key/12345678-aaaa-bbbb-cccc-000000000000']);
    const store = new EncryptingStore(plain, undefined, new Map([['aws-kms', kms]]), { allowedKmsKeys: ours });
    const err = await store.get(BUCKET, 'foreign').catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'not-authentic', keyId: theirs, message: expect.stringContaining('not in encryption.kms.allowed.keys') });
    expect(unwraps).toBe(0);
  });
});

describe('encryption settings', () => {
  it('a keyring file that is missing, not JSON, or holds a bad key or a wrong active id: each said, no key material quoted', () => {
    const dir = tmpDir('enc-config');
    const short = randomBytes(16).toString('base64');
    const bad = join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({ active: 'nope', keys: { good: randomBytes(32).toString('base64'), 'bad id!': randomBytes(32).toString('base64'), short } }),
    );
    const { errors } = readKeyring(bad);
    expect(errors).toEqual([
      expect.stringContaining('key id "bad id!"'),
      expect.stringMatching(/key "short" .* is not 32 bytes of base64/),
      expect.stringContaining('"active" in'),
    ]);
    expect(errors.join(' ')).not.toContain(short);
    writeFileSync(join(dir, 'text.json'), 'not json');
    expect(readKeyring(join(dir, 'text.json')).errors).toEqual([expect.stringContaining('is not JSON')]);
    expect(readKeyring(join(dir, 'absent.json')).errors).toEqual([expect.stringContaining('(ENOENT)')]);
    expect(readFileSync(bad, 'utf8')).toContain(short);
  });

  it('encryption.kms.allowed.keys takes key ARNs only (objects record the ARN, never an alias)', () => {
    const { errors } = storeConfig.validate({ 'encryption.kms.allowed.keys': 'arn:aws:kms:us-east-1:111111111111:key/12345678-aaaa,alias/backups' });
    expect(errors).toEqual([{ field: 'encryption.kms.allowed.keys', message: expect.stringContaining('got alias/backups') }]);
  });

  it('names each missing or bad encryption field', () => {
    expect(validateStoreSettings({ 'encryption.provider': 'keyring' })).toEqual([
      { field: 'encryption.keyring.file', message: 'is required with encryption.provider=keyring' },
    ]);
    expect(validateStoreSettings({ 'encryption.provider': 'aws-kms', 'encryption.kms.access.key.id': 'AK', 'encryption.kms.endpoint': 'nope' })).toEqual([
      { field: 'encryption.kms.key.id', message: 'is required with encryption.provider=aws-kms' },
      { field: 'encryption.kms.secret.access.key', message: 'encryption.kms.access.key.id and encryption.kms.secret.access.key go together' },
      { field: 'encryption.kms.endpoint', message: 'is not a URL: "nope"' },
    ]);
    expect(storeConfig.validate({ 'encryption.provider': 'rot13' }).errors).toEqual([
      { field: 'encryption.provider', message: expect.stringContaining('none, keyring, aws-kms') },
    ]);
  });
});
