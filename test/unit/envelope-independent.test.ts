/**
 * docs/formats.md, "Encrypted objects", says how to decrypt an object without coldstore.
 * This test does it from that description alone, with node's crypto and the files of the
 * local store, so the documented format and the written one cannot drift apart.
 */
import { createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createObjectStore, storeConfig } from '../../connectors/common/object-store/store-config.js';
import { tmpDir } from '../helpers/tmp.js';

function aesGcmOpen(key: Buffer, nonce: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
}

function additionalData(part: 'body' | 'sealed', metadata: Record<string, string>): Buffer {
  const names = Object.keys(metadata)
    .filter((n) => n.startsWith('coldstore-') && n !== 'coldstore-enc-sealed')
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return Buffer.from(`aes-256-gcm-v1 ${part}\n${names.map((n) => `${n}=${metadata[n]}\n`).join('')}`);
}

describe('an encrypted object, decrypted as docs/formats.md describes', () => {
  it('gives back the gzip body and the sealed metadata with the keyring key alone', async () => {
    const dir = tmpDir('enc-independent');
    const kek = randomBytes(32);
    const keyring = join(dir, 'keyring.json');
    writeFileSync(keyring, JSON.stringify({ active: 'main-2026', keys: { 'main-2026': kek.toString('base64') } }));
    const { values, errors } = storeConfig.validate({
      'storage.type': 'local',
      'local.root': join(dir, 'objects'),
      'encryption.provider': 'keyring',
      'encryption.keyring.file': keyring,
    });
    expect(errors).toEqual([]);
    const plaintext = gzipSync(Buffer.from('record one\nrecord two\n'));
    const written = { 'coldstore-format': 'kafka-v1', 'coldstore-records': '2', 'coldstore-body-sha256': 'f'.repeat(64), 'coldstore-body-bytes': '22' };
    await createObjectStore(values).put('bucket', 'topic/0/bundle', plaintext, written);

    const body = readFileSync(join(dir, 'objects', 'bucket', 'topic/0/bundle'));
    const metadata = JSON.parse(readFileSync(join(dir, 'objects', '.coldstore-meta', 'bucket', 'topic/0/bundle.json'), 'utf8')) as Record<string, string>;
    expect(metadata['coldstore-enc']).toBe('aes-256-gcm-v1');
    expect(metadata['coldstore-enc-provider']).toBe('keyring');
    expect(metadata['coldstore-enc-key-id']).toBe('main-2026');
    expect(body.length).toBe(plaintext.length + 16);

    const wrapped = Buffer.from(metadata['coldstore-enc-wrapped-key']!, 'base64');
    const dataKey = aesGcmOpen(kek, wrapped.subarray(0, 12), wrapped.subarray(12), Buffer.from('coldstore-keyring-v1 main-2026'));
    expect(dataKey.length).toBe(32);
    const opened = aesGcmOpen(dataKey, Buffer.from(metadata['coldstore-enc-nonce']!, 'base64'), body, additionalData('body', metadata));
    expect(gunzipSync(opened).toString()).toBe('record one\nrecord two\n');

    const sealed = Buffer.from(metadata['coldstore-enc-sealed']!, 'base64');
    const names = JSON.parse(aesGcmOpen(dataKey, sealed.subarray(0, 12), sealed.subarray(12), additionalData('sealed', metadata)).toString()) as unknown;
    expect(names).toEqual({ 'coldstore-body-sha256': 'f'.repeat(64), 'coldstore-body-bytes': '22' });
    expect(metadata['coldstore-records']).toBe('2');
    expect(metadata['coldstore-body-sha256']).toBeUndefined();
  });
});
