/** HTTPS to an S3 endpoint whose certificate a private CA signed: trusting that CA, and saying so when the certificate is not trusted. */
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import { ColdstoreError, ErrorCodes } from '../../../runtime/api/index.js';

/** Node's codes for a server certificate the client does not trust (tls.TLSSocket verifyError). */
const UNTRUSTED_CERT =
  /^(SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|CERT_UNTRUSTED|CERT_REJECTED|ERR_TLS_CERT_ALTNAME_INVALID)$/;

/** Why a TLS handshake failed and what to do, or undefined for any other error: no retry makes a certificate trusted. */
export function untrustedCertificate(err: unknown, endpoint: string | undefined): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown; message?: string } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && UNTRUSTED_CERT.test(e.code)) {
      return (
        `the TLS certificate of ${endpoint ?? 'S3'} is not trusted (${e.code}: ${e.message ?? ''}). ` +
        'Set s3.ca.file to the PEM file of the CA that signed it (or fix the certificate), then restart the task'
      );
    }
  }
  return undefined;
}

/** The SDK's default agent settings, trusting a private CA besides the system CAs (so AWS still works with s3.ca.file set). */
export function httpsAgentTrusting(caFile: string): Agent {
  let pem: string;
  try {
    pem = readFileSync(caFile, 'utf8');
  } catch (err) {
    throw new ColdstoreError(
      ErrorCodes.CONFIG_INVALID,
      `s3.ca.file: cannot read ${caFile} (${(err as Error).message}); give the PEM file of the CA that signed the S3 endpoint's certificate.`,
      {
        cause: err,
      },
    );
  }
  return new Agent({ keepAlive: true, maxSockets: 50, ca: [...rootCertificates, pem] });
}
