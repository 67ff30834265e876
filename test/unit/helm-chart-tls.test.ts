// The Helm chart's HTTPS (rest.tls.*): which files of the TLS Secret the workers read, for
// both kinds of Secret: one written by `kubectl create secret tls` (tls.crt and tls.key
// only) and one written by cert-manager (ca.crt too). Tools as in helm-chart.test.ts.
import { describe, expect, it } from 'vitest';
import { CLUSTER_VALUES, RELEASE, container, one, render, template, workerConfig } from '../helpers/helm.js';
import { parsedFor, probe, skipChartTests } from '../helpers/helm-config.js';
import { asArray, at, type Obj } from '../helpers/repo-files.js';

const FULLNAME = `${RELEASE}-coldstore`;
const TLS = ['-f', CLUSTER_VALUES, '--set', 'rest.tls.enabled=true,rest.tls.secretName=coldstore-tls'];
const ENV = { COLDSTORE_REST_TOKEN: 'token' };
const FILE_KEYS = ['rest.tls.cert.file', 'rest.tls.key.file', 'rest.tls.ca.file'] as const;

/** The Secret keys the worker config's TLS files name (each must be a file of the mounted Secret). */
function secretKeysRead(manifests: Obj[]): string[] {
  const mount = asArray(container(manifests).volumeMounts).find((m) => at(m, 'name') === 'tls');
  const volume = asArray(at(one(manifests, 'StatefulSet'), 'spec.template.spec.volumes')).find((v) => at(v, 'name') === 'tls');
  expect(at(volume, 'secret.secretName')).toBe('coldstore-tls');
  const dir = `${String(at(mount, 'mountPath'))}/`;
  const config = workerConfig(manifests);
  return FILE_KEYS.filter((k) => config[k] !== undefined).map((k) => {
    const path = String(config[k]);
    expect(path.startsWith(dir), `${k} ${path} is in the Secret's mount ${dir}`).toBe(true);
    return path.slice(dir.length);
  });
}

describe.skipIf(skipChartTests('helm-chart-tls.test.ts'))('Helm chart: HTTPS from a TLS Secret', () => {
  it('serves HTTPS: probes, advertised URLs and scraping follow', () => {
    const manifests = render(TLS);
    for (const kind of ['livenessProbe', 'readinessProbe', 'startupProbe']) expect(probe(manifests, kind).scheme).toBe('HTTPS');
    const config = parsedFor(manifests, `${FULLNAME}-2`, ENV);
    expect(config['rest.advertised.url']).toMatch(new RegExp(`^https://${FULLNAME}-2\\.`));
    expect(at(one(manifests, 'ServiceMonitor'), 'spec.endpoints.0.scheme')).toBe('https');
  });

  it('reads only tls.crt and tls.key by default, so a `kubectl create secret tls` Secret starts the workers', () => {
    const manifests = render(TLS);
    // What `kubectl create secret tls` writes: no ca.crt, which a worker told to read would crash-loop on.
    const written = ['tls.crt', 'tls.key'];
    const read = secretKeysRead(manifests);
    expect(read.sort()).toEqual(written);
    // Forwarded requests then trust the certificate itself (rest.tls.ca.file's default).
    const config = parsedFor(manifests, `${FULLNAME}-0`, ENV);
    expect(config['rest.tls.ca.file']).toBe(undefined);
    expect(config['rest.tls.cert.file']).toMatch(/\/tls\.crt$/);
  });

  it('trusts the Secret’s CA for forwarded requests when rest.tls.caKey names it (cert-manager’s ca.crt)', () => {
    const manifests = render([...TLS, '--set', 'rest.tls.caKey=ca.crt']);
    expect(secretKeysRead(manifests).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
    const config = parsedFor(manifests, `${FULLNAME}-1`, ENV);
    expect(config['rest.tls.ca.file']).toMatch(/\/ca\.crt$/);
    // Any key of the Secret: some issuers write ca.pem.
    expect(secretKeysRead(render([...TLS, '--set', 'rest.tls.caKey=ca.pem']))).toContain('ca.pem');
  });

  it('refuses a caKey that is not a key of the Secret, saying why', () => {
    const r = template([...TLS, '--set', 'rest.tls.caKey=../ca.crt']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('rest.tls.caKey must be a key of the Secret');
  });
});
