import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { aesGcm, AuthenticationFailed, DATA_KEY_BYTES, type DataKey } from './envelope.js';
import { KeyUnavailableError, type KeyProvider } from './key-provider.js';

export const KEYRING_PROVIDER = 'keyring';
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * A keyring file (docs/operations.md, "Encryption keys"): JSON
 * `{"active": "<id>", "keys": {"<id>": "<32 bytes, base64>", ...}}`. The active key wraps
 * the data keys of new objects; every key listed unwraps the objects it wrapped, so a
 * rotation adds a key and moves `active`, and keeps the old ones.
 */
export interface KeyringFile {
  active: string;
  keys: Map<string, Buffer>;
}

/** The keyring in `path`, or the list of what is wrong with it (never quoting key material). */
export function readKeyring(path: string): { keyring?: KeyringFile; errors: string[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { errors: [code ? `cannot read ${path} (${code})` : `${path} is not JSON`] };
  }
  const { active, keys } = (parsed ?? {}) as { active?: unknown; keys?: unknown };
  const errors: string[] = [];
  const material = new Map<string, Buffer>();
  if (typeof keys !== 'object' || keys === null || Object.keys(keys).length === 0) errors.push(`${path} has no "keys" object naming at least one key`);
  for (const [id, value] of Object.entries((keys ?? {}) as Record<string, unknown>)) {
    const bytes = typeof value === 'string' && /^[A-Za-z0-9+/]+={0,2}$/.test(value) ? Buffer.from(value, 'base64') : undefined;
    if (!KEY_ID.test(id)) errors.push(`key id "${id}" in ${path} must be 1-64 characters of A-Z, a-z, 0-9, ".", "_" and "-"`);
    else if (bytes?.length !== DATA_KEY_BYTES)
      errors.push(`key "${id}" in ${path} is not ${DATA_KEY_BYTES} bytes of base64 (make one with: openssl rand -base64 32)`);
    else material.set(id, bytes);
  }
  if (typeof active !== 'string' || !material.has(active) || !KEY_ID.test(active)) {
    errors.push(`"active" in ${path} must name one of its keys${typeof active === 'string' ? ` ("${active}" is not one)` : ''}`);
  }
  return errors.length > 0 ? { errors } : { keyring: { active: active as string, keys: material }, errors };
}

/** The data key wrapped as aesGcm.seal (nonce, ciphertext, tag) under the key-encryption key, bound to its id. */
const wrapContext = (keyId: string) => Buffer.from(`coldstore-keyring-v1 ${keyId}`);

export class KeyringProvider implements KeyProvider {
  readonly name = KEYRING_PROVIDER;
  private readonly keyring: KeyringFile;

  constructor(
    private readonly path: string,
    /** False when the keyring only decrypts (another provider encrypts new objects). */
    encrypts: boolean,
  ) {
    const { keyring, errors } = readKeyring(path);
    if (!keyring) throw new KeyUnavailableError('', `encryption.keyring.file: ${errors.join('; ')}`);
    this.keyring = keyring;
    this.activeKeyId = encrypts ? keyring.active : undefined;
  }

  readonly activeKeyId: string | undefined;

  newDataKey(): Promise<DataKey> {
    const keyId = this.keyring.active;
    const plaintext = randomBytes(DATA_KEY_BYTES);
    const wrapped = aesGcm.seal(this.keyring.keys.get(keyId)!, plaintext, wrapContext(keyId));
    return Promise.resolve({ provider: this.name, keyId, plaintext, wrapped });
  }

  unwrap(keyId: string, wrapped: Buffer): Promise<Buffer> {
    const kek = this.keyring.keys.get(keyId);
    if (!kek) {
      const known = [...this.keyring.keys.keys()].join(', ');
      throw new KeyUnavailableError(
        keyId,
        `needs keyring key "${keyId}", which ${this.path} does not hold (it has ${known}); add that key back to the keyring`,
      );
    }
    try {
      return Promise.resolve(aesGcm.open(kek, wrapped, wrapContext(keyId)));
    } catch (err) {
      if (!(err instanceof AuthenticationFailed)) throw err;
      throw new KeyUnavailableError(
        keyId,
        `keyring key "${keyId}" in ${this.path} does not unwrap its data key: the key was changed since, or the metadata was altered`,
      );
    }
  }
}
