/**
 * Test helpers for encrypted backups: keyring files, and opening objects fetched with a
 * plain S3 client (so the exactly-once proofs read plaintext while the store holds ciphertext).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { envelopeKeyOf, openBody, revealMetadata } from '../../connectors/common/encryption/envelope.js';
import type { KeyProvider } from '../../connectors/common/encryption/key-provider.js';
import { KEYRING_PROVIDER, KeyringProvider } from '../../connectors/common/encryption/keyring.js';
import { KMS_PROVIDER, KmsProvider } from '../../connectors/common/encryption/kms-provider.js';
import type { FetchedObject } from './s3.js';

/** A fresh 32-byte key-encryption key, base64 as a keyring file holds it. */
export function newKeyMaterial(): string {
  return randomBytes(32).toString('base64');
}

/** Writes a keyring file (mode 0600) into `dir` and returns its path. */
export function writeKeyring(dir: string, active: string, keys: Record<string, string>, name = `keyring-${randomBytes(3).toString('hex')}.json`): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ active, keys }), { mode: 0o600 });
  return path;
}

/** The connector settings of a keyring-encrypted backup. */
export function keyringSettings(path: string): Record<string, string> {
  return { 'encryption.provider': KEYRING_PROVIDER, 'encryption.keyring.file': path };
}

export interface ObjectOpeners {
  keyringFile?: string;
  kms?: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
}

/** Opens raw objects as coldstore reads them: plaintext body and the whole metadata; plaintext objects pass as they are. */
export function objectOpener(openers: ObjectOpeners): (objects: readonly FetchedObject[]) => Promise<FetchedObject[]> {
  const providers = new Map<string, KeyProvider>();
  if (openers.keyringFile) providers.set(KEYRING_PROVIDER, new KeyringProvider(openers.keyringFile, false));
  if (openers.kms) providers.set(KMS_PROVIDER, new KmsProvider({ keyId: undefined, ...openers.kms }));
  return (objects) =>
    Promise.all(
      objects.map(async (object) => {
        const envelope = envelopeKeyOf(object.metadata);
        if (!envelope) return object;
        const provider = providers.get(envelope.provider);
        if (!provider) throw new Error(`${object.key} needs a ${envelope.provider} key and the test gave none`);
        const dataKey = await provider.unwrap(envelope.keyId, envelope.wrapped);
        return { key: object.key, body: openBody(object.body, object.metadata, dataKey), metadata: revealMetadata(object.metadata, dataKey) };
      }),
    );
}

export interface VerifyRun {
  code: number;
  report: {
    ok: boolean;
    objects: number;
    records: number;
    problems: { kind: string; key: string; message: string }[];
    encryption: { keys: { provider: string; keyId: string; objects: number }[]; unencryptedObjects: number };
  };
  stderr: string;
}

/** `coldstore verify --json` of the continuous backup, as a child process, on a connector file with these settings written into `dir`. */
export function coldstoreVerify(dir: string, settings: Record<string, string>): Promise<VerifyRun> {
  const root = resolve(import.meta.dirname, '../..');
  const configPath = join(dir, `verify-${randomBytes(3).toString('hex')}.json`);
  writeFileSync(configPath, JSON.stringify({ name: 'encrypted-backup', config: { 'connector.class': 'RestoreSource', topics: 'unused', ...settings } }), {
    mode: 0o600,
  });
  return new Promise((done, fail) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(root, 'app/cli/main.cts'), 'verify', '--config', configPath, '--json'],
      { cwd: root, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? Number((err as NodeJS.ErrnoException).code ?? 1) : 0;
        try {
          done({ code, report: JSON.parse(stdout) as VerifyRun['report'], stderr });
        } catch {
          fail(new Error(`coldstore verify exited ${code} without a JSON report: ${stdout} ${stderr}`));
        }
      },
    );
  });
}
