/**
 * BundleUploader over an encrypting store (docs/delivery-guarantees.md, "With encryption
 * on"): a bundle rebuilt after a crash has other stored bytes (a fresh data key and nonce)
 * and must still be recognised by its sealed plaintext digest; other records under the
 * same key stay a conflict; an object left without metadata is a conflict that says what
 * to do, never overwritten.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BundleUploader } from '../../connectors/backup-sink/bundle-uploader.js';
import { EncryptingStore } from '../../connectors/common/encryption/encrypting-store.js';
import { KeyringProvider } from '../../connectors/common/encryption/keyring.js';
import { LocalObjectStore } from '../../connectors/common/object-store/local-object-store.js';
import { fixtureRecord } from '../helpers/backup-fixture.js';
import { writeKeyring } from '../helpers/encryption.js';
import { recordingLog } from '../helpers/gzip-samples.js';
import { tmpDir } from '../helpers/tmp.js';
import { sealedKafkaBundle } from '../helpers/sealed-bundle.js';

const TOPIC = 'orders';
const records = Array.from({ length: 50 }, (_, i) => fixtureRecord(TOPIC, 0, i));
const bundle = sealedKafkaBundle(records);

function encryptedUploader(dir: string) {
  const keyring = new KeyringProvider(writeKeyring(dir, 'k1', { k1: randomBytes(32).toString('base64') }, 'keyring.json'), true);
  const store = new EncryptingStore(new LocalObjectStore(join(dir, 'objects')), keyring, new Map([['keyring', keyring]]));
  const uploader = new BundleUploader({
    store,
    location: { bucket: 'events', prefix: '' },
    gzipLevel: 1,
    permanentErrorRetries: 0,
    log: recordingLog(),
    metrics: { add: () => undefined, record: () => undefined, set: () => undefined },
    stopped: () => false,
  });
  return { uploader, raw: new LocalObjectStore(join(dir, 'objects')) };
}

describe('BundleUploader with encryption', () => {
  it('a rebuilt bundle is existing (new stored bytes, same sealed digest); other records under its key are a conflict', async () => {
    const { uploader, raw } = encryptedUploader(tmpDir('enc-upload'));
    expect(await uploader.upload(bundle)).toBe('created');
    const key = uploader.keyOf(bundle);
    const first = (await raw.get('events', key))!;
    expect(await uploader.upload(bundle)).toBe('existing');
    expect((await raw.get('events', key))!.body.equals(first.body)).toBe(true);
    const other = sealedKafkaBundle(records.map((r) => ({ ...r, value: Buffer.from('changed') })));
    await expect(uploader.upload(other)).rejects.toThrow(/already exists with different content/);
  });

  it('an object its writer left without metadata (killed between the two files): a conflict saying to delete it, the object untouched', async () => {
    const dir = tmpDir('enc-upload-orphan');
    const { uploader, raw } = encryptedUploader(dir);
    expect(await uploader.upload(bundle)).toBe('created');
    const key = uploader.keyOf(bundle);
    rmSync(join(dir, 'objects', '.coldstore-meta', 'events', `${key}.json`));
    const before = (await raw.get('events', key))!.body;
    await expect(uploader.upload(bundle)).rejects.toThrow(/exists without metadata: .* delete that one object and restart the task/);
    expect((await raw.get('events', key))!.body.equals(before)).toBe(true);
  });
});
