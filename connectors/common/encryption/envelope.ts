import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { MetadataName, SEALED_METADATA } from '../../layouts/metadata-names.js';
import type { ObjectMetadata } from '../object-store/object-store.js';

/**
 * The envelope of an encrypted object (docs/formats.md, "Encrypted objects"): the body is
 * AES-256-GCM ciphertext followed by its 16-byte tag, under a data key of its own; the
 * metadata carries the wrapped data key, the nonce, and the content-describing names
 * sealed with the same key. Every coldstore-* name in the metadata is authenticated
 * (additional data), so changing one is detected like changing the body.
 */
export const ENVELOPE_SCHEME = 'aes-256-gcm-v1';
const ALGORITHM = 'aes-256-gcm';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const DATA_KEY_BYTES = 32;

/** A fresh data key: the plaintext to encrypt one object with, and what the key provider made of it. */
export interface DataKey {
  provider: string;
  keyId: string;
  plaintext: Buffer;
  wrapped: Buffer;
}

/** Which key an encrypted object needs, read from its metadata; undefined for a plaintext object. */
export interface EnvelopeKey {
  provider: string;
  keyId: string;
  wrapped: Buffer;
}

export class EnvelopeFormatError extends Error {
  override readonly name = 'EnvelopeFormatError';
}

/** The authentication check failed: the object or its metadata changed, or the key is not the one it was written with. */
export class AuthenticationFailed extends Error {
  override readonly name = 'AuthenticationFailed';
}

export function envelopeKeyOf(metadata: ObjectMetadata): EnvelopeKey | undefined {
  const scheme = metadata[MetadataName.encryption];
  if (scheme === undefined) return undefined;
  if (scheme !== ENVELOPE_SCHEME)
    throw new EnvelopeFormatError(`is encrypted with scheme "${scheme}", which this version does not know (it reads ${ENVELOPE_SCHEME})`);
  const provider = metadata[MetadataName.encryptionProvider];
  const keyId = metadata[MetadataName.encryptionKeyId];
  const wrapped = metadata[MetadataName.encryptionWrappedKey];
  if (!provider || !keyId || !wrapped) throw new EnvelopeFormatError('is marked encrypted but its metadata lacks the key provider, key id or wrapped key');
  return { provider, keyId, wrapped: Buffer.from(wrapped, 'base64') };
}

/** The additional authenticated data: every coldstore-* name but the sealed blob, sorted, one `name=value` line each. */
function associatedData(metadata: ObjectMetadata, part: 'body' | 'sealed'): Buffer {
  const lines = Object.keys(metadata)
    .filter((name) => name.startsWith('coldstore-') && name !== MetadataName.encryptionSealed)
    .sort()
    .map((name) => `${name}=${metadata[name]}\n`);
  return Buffer.from(`${ENVELOPE_SCHEME} ${part}\n${lines.join('')}`);
}

function encrypt(key: Buffer, nonce: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

function decrypt(key: Buffer, nonce: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  if (nonce.length !== NONCE_BYTES) throw new EnvelopeFormatError(`has a ${nonce.length}-byte nonce, not ${NONCE_BYTES}`);
  if (sealed.length < TAG_BYTES) throw new AuthenticationFailed(`is ${sealed.length} bytes, shorter than its authentication tag`);
  const decipher = createDecipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  const body = decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES));
  try {
    return Buffer.concat([body, decipher.final()]);
  } catch {
    throw new AuthenticationFailed('failed its authentication check');
  }
}

/** Encrypts a body and its metadata under `key`: the stored body and the stored metadata. */
export function seal(body: Buffer, metadata: ObjectMetadata, key: DataKey): { body: Buffer; metadata: ObjectMetadata } {
  const visible: ObjectMetadata = {};
  const hidden: ObjectMetadata = {};
  for (const [name, value] of Object.entries(metadata)) (SEALED_METADATA.includes(name) ? hidden : visible)[name] = value;
  const nonce = randomBytes(NONCE_BYTES);
  const stored: ObjectMetadata = {
    ...visible,
    [MetadataName.encryption]: ENVELOPE_SCHEME,
    [MetadataName.encryptionProvider]: key.provider,
    [MetadataName.encryptionKeyId]: key.keyId,
    [MetadataName.encryptionWrappedKey]: key.wrapped.toString('base64'),
    [MetadataName.encryptionNonce]: nonce.toString('base64'),
  };
  const sealedNonce = randomBytes(NONCE_BYTES);
  const sealed = encrypt(key.plaintext, sealedNonce, Buffer.from(JSON.stringify(hidden)), associatedData(stored, 'sealed'));
  stored[MetadataName.encryptionSealed] = Buffer.concat([sealedNonce, sealed]).toString('base64');
  return { body: encrypt(key.plaintext, nonce, body, associatedData(stored, 'body')), metadata: stored };
}

/** The metadata as written: the stored names plus the sealed ones, decrypted and authenticated. */
export function revealMetadata(metadata: ObjectMetadata, dataKey: Buffer): ObjectMetadata {
  const blob = Buffer.from(metadata[MetadataName.encryptionSealed] ?? '', 'base64');
  if (blob.length < NONCE_BYTES + TAG_BYTES) throw new AuthenticationFailed('has no sealed metadata, or too short a one');
  const json = decrypt(dataKey, blob.subarray(0, NONCE_BYTES), blob.subarray(NONCE_BYTES), associatedData(metadata, 'sealed'));
  let hidden: unknown;
  try {
    hidden = JSON.parse(json.toString());
  } catch {
    throw new EnvelopeFormatError('has sealed metadata that is not JSON');
  }
  const revealed: ObjectMetadata = { ...metadata };
  for (const [name, value] of Object.entries(hidden as Record<string, unknown>)) if (typeof value === 'string') revealed[name] = value;
  return revealed;
}

/** The plaintext body; throws AuthenticationFailed when the body, its metadata or the key is not what was sealed. */
export function openBody(body: Buffer, metadata: ObjectMetadata, dataKey: Buffer): Buffer {
  const nonce = Buffer.from(metadata[MetadataName.encryptionNonce] ?? '', 'base64');
  return decrypt(dataKey, nonce, body, associatedData(metadata, 'body'));
}

/** Encrypted objects are exactly this much larger than their plaintext. */
export const ENVELOPE_OVERHEAD_BYTES = TAG_BYTES;

/** AES-256-GCM with a random nonce: the one primitive the keyring also wraps data keys with. */
export const aesGcm = {
  seal(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
    const nonce = randomBytes(NONCE_BYTES);
    return Buffer.concat([nonce, encrypt(key, nonce, plaintext, aad)]);
  },
  open(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
    return decrypt(key, sealed.subarray(0, NONCE_BYTES), sealed.subarray(NONCE_BYTES), aad);
  },
};
