import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * A self-signed certificate made with openssl, valid one day, for `subjectAltName`
 * (e.g. `IP:127.0.0.1` or `DNS:worker-0`); its files are `<name>.crt` and `<name>.key` in `dir`.
 */
export function selfSignedCertificate(dir: string, name: string, subjectAltName: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const commonName = subjectAltName.replace(/^(IP|DNS):/, '');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-subj',
      `/CN=${commonName}`,
      '-days',
      '1',
      '-addext',
      `subjectAltName=${subjectAltName}`,
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}
