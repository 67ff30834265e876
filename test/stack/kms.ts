/**
 * The stack's KMS: moto's server (PyPI, pinned in scripts/setup-moto.sh, installed into
 * .stack/moto-venv) started through test/stack/kms-server.py, which adds KMS's refusal of
 * disabled and pending-deletion keys. It speaks the real KMS JSON protocol, so tests use
 * the AWS SDK's KMS client against it, with any credentials.
 *
 * moto keeps every key in memory only: a restart of the server (`npm run stack -- restart
 * kms`, or `down`/`up`) loses all keys and aliases, and data keys wrapped before it can no
 * longer be decrypted. Tests create the keys they use.
 */
import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { KMS_REGION, KMS_SERVER_SCRIPT, MOTO_VENV, paths, ports, REPO_ROOT } from './layout.js';
import { appendBanner, failure, runLogged, spawnDetached } from './processes.js';

const MOTO_PYTHON = join(MOTO_VENV, 'bin', 'python');

/**
 * The venv's python through the venv's real directory: `.stack` may be a symlink into another
 * checkout, and moto imports modules lazily, so a server must not depend on the link staying.
 */
function motoPython(): string {
  return join(realpathSync(MOTO_VENV), 'bin', 'python');
}

/**
 * KMS is ready when a real KMS call (ListKeys) gets a 200 with a key list: moto answers
 * HTTP before its KMS backend is loaded, and an unrelated server on the port would not
 * answer this. moto picks the service from the SigV4 credential scope (it routes unsigned
 * requests to S3) and checks no signature, so a header with a KMS scope is enough.
 */
export function kmsAnswers(port: number, timeoutMs = 2000): Promise<boolean> {
  const body = '{}';
  return new Promise((resolvePromise) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        method: 'POST',
        timeout: timeoutMs,
        headers: {
          'Content-Type': 'application/x-amz-json-1.1',
          'X-Amz-Target': 'TrentService.ListKeys',
          Authorization: `AWS4-HMAC-SHA256 Credential=coldstore-stack/20260101/${KMS_REGION}/kms/aws4_request, SignedHeaders=host, Signature=0`,
          'Content-Length': Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.once('end', () => resolvePromise(res.statusCode === 200 && isKeyList(text)));
        res.once('error', () => resolvePromise(false));
      },
    );
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolvePromise(false));
    req.end(body);
  });
}

function isKeyList(text: string): boolean {
  try {
    return Array.isArray((JSON.parse(text) as { Keys?: unknown }).Keys);
  } catch {
    return false;
  }
}

/**
 * Installs moto into .stack/moto-venv if it is missing or at another version, so a checkout
 * set up before the stack had a KMS still starts one. A no-op (one Python import) otherwise.
 */
export async function ensureMoto(log: (line: string) => void): Promise<void> {
  const p = paths('kms');
  mkdirSync(p.dir, { recursive: true });
  const setupLog = join(p.dir, 'setup-moto.log');
  const script = join(REPO_ROOT, 'scripts', 'setup-moto.sh');
  if (!existsSync(MOTO_PYTHON)) log(`kms: installing moto into ${MOTO_VENV} (first run only)…`);
  const code = await runLogged('bash', [script], setupLog, REPO_ROOT).catch((err: Error) => {
    throw failure(`could not run ${script}: ${err.message}`, setupLog);
  });
  if (code !== 0) throw failure(`${script} failed (exit ${code})`, setupLog);
}

export function launchKms(): number {
  const p = paths('kms');
  mkdirSync(p.dir, { recursive: true });
  appendBanner(p.log, 'starting moto (kms)');
  // Loopback only: moto accepts any credentials from anyone who reaches it.
  const args = [KMS_SERVER_SCRIPT, '--host', '127.0.0.1', '--port', String(ports().kms)];
  return spawnDetached('kms', motoPython(), args, 'is moto installed? run bash scripts/setup-moto.sh');
}
