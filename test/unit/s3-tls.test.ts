import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { httpsAgentTrusting, untrustedCertificate } from '../../connectors/common/object-store/s3-tls.js';
import { ErrorCodes } from '../../runtime/api/errors.js';

describe('s3.ca.file', () => {
  it('trusts the file’s CA in addition to the system CAs, so AWS endpoints keep working with it set', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'coldstore-ca-')), 'ca.pem');
    const pem = '-----BEGIN CERTIFICATE-----\nnot-checked-here\n-----END CERTIFICATE-----\n';
    writeFileSync(file, pem);
    const ca = httpsAgentTrusting(file).options.ca as string[];
    expect(ca).toContain(pem);
    expect(ca.length).toBe(rootCertificates.length + 1);
    expect(rootCertificates.every((c) => ca.includes(c))).toBe(true);
  });

  it('a missing file is a config error naming s3.ca.file and the path', () => {
    const missing = join(tmpdir(), 'coldstore-no-such-ca.pem');
    expect(() => httpsAgentTrusting(missing)).toThrow(
      expect.objectContaining({ code: ErrorCodes.CONFIG_INVALID, message: expect.stringContaining(`s3.ca.file: cannot read ${missing}`) }),
    );
  });

  it('recognises an untrusted certificate however deep the SDK wrapped it, and nothing else', () => {
    const tls = Object.assign(new Error('unable to verify the first certificate'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    const wrapped = new Error('socket hang up', { cause: new Error('request failed', { cause: tls }) });
    expect(untrustedCertificate(wrapped, 'https://s3.internal')).toMatch(
      /TLS certificate of https:\/\/s3\.internal is not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE.*s3\.ca\.file/,
    );
    expect(untrustedCertificate(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), 'https://s3.internal')).toBeUndefined();
  });
});
