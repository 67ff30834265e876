/**
 * What the secured-connection tests run against: a test CA made with openssl at start-up,
 * a server certificate it signs (for 127.0.0.1 and localhost), and an S3Proxy serving
 * HTTPS only with that certificate. The broker side is PrivateKafka with a SASL_SSL
 * listener. Nothing here touches the shared stack.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '../helpers/worker-process.js';
import { killAndWait } from '../stack/processes.js';

const execFileAsync = promisify(execFile);
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const S3PROXY_JAR = join(REPO_ROOT, '.stack', 'lib', 's3proxy', 's3proxy-4.1.0-jar-with-dependencies.jar');

export interface TestPki {
  /** The CA certificate clients are told to trust (PEM). */
  caFile: string;
  /** The server's PKCS#8 key followed by its certificate: Kafka's PEM keystore. */
  serverPem: string;
  /** The same key and certificate as PKCS#12, for S3Proxy's (Jetty's) keystore. */
  serverP12: string;
  p12Password: string;
}

async function openssl(cwd: string, args: string[]): Promise<void> {
  await execFileAsync('openssl', args, { cwd });
}

/** A CA of its own (`name` tells them apart) and a server certificate it signs. */
export async function makeTestPki(dir: string, name: string): Promise<TestPki> {
  mkdirSync(dir, { recursive: true });
  const days = ['-days', '2'];
  await openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', `/CN=${name} test CA`, ...days]);
  await openssl(dir, ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'server.key']);
  await openssl(dir, ['req', '-new', '-key', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-extfile',
    'san.ext',
    ...days,
  ]);
  const serverPem = join(dir, 'server.pem');
  writeFileSync(serverPem, readFileSync(join(dir, 'server.key'), 'utf8') + readFileSync(join(dir, 'server.crt'), 'utf8'));
  const p12Password = 'keystore-pass';
  await openssl(dir, [
    'pkcs12',
    '-export',
    '-in',
    'server.crt',
    '-inkey',
    'server.key',
    '-out',
    'server.p12',
    '-passout',
    `pass:${p12Password}`,
    '-name',
    'server',
  ]);
  return { caFile: join(dir, 'ca.crt'), serverPem, serverP12: join(dir, 'server.p12'), p12Password };
}

/** An S3Proxy (filesystem store) on HTTPS only, with a certificate from `pki`. */
export class HttpsS3 {
  private child: ChildProcess | undefined;

  private constructor(
    private readonly dir: string,
    readonly port: number,
    private readonly pki: TestPki,
  ) {}

  get endpoint(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  static async start(dir: string, pki: TestPki, credentials: { accessKeyId: string; secretAccessKey: string }): Promise<HttpsS3> {
    const s3 = new HttpsS3(dir, await freePort(), pki);
    await s3.launch(credentials);
    return s3;
  }

  private async launch(credentials: { accessKeyId: string; secretAccessKey: string }): Promise<void> {
    mkdirSync(join(this.dir, 'data'), { recursive: true });
    const config = join(this.dir, 's3proxy.conf');
    writeFileSync(
      config,
      [
        `s3proxy.secure-endpoint=https://127.0.0.1:${this.port}`,
        `s3proxy.keystore-path=${this.pki.serverP12}`,
        `s3proxy.keystore-password=${this.pki.p12Password}`,
        's3proxy.authorization=aws-v2-or-v4',
        `s3proxy.identity=${credentials.accessKeyId}`,
        `s3proxy.credential=${credentials.secretAccessKey}`,
        'jclouds.provider=filesystem',
        `jclouds.filesystem.basedir=${join(this.dir, 'data')}`,
        '',
      ].join('\n'),
    );
    const logFile = join(this.dir, 's3proxy.log');
    const log = openSync(logFile, 'a');
    const child = spawn('java', ['-Xmx256m', '-jar', S3PROXY_JAR, '--properties', config], { stdio: ['ignore', log, log] });
    closeSync(log);
    child.once('error', () => {});
    this.child = child;
    process.once('exit', () => child.kill('SIGKILL'));
    const deadline = Date.now() + 60_000;
    while (!(await this.answers())) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`HTTPS S3Proxy on ${this.port} did not start; see ${logFile}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Up when it answers HTTPS with a certificate the test CA vouches for (an anonymous request gets 403: fine). */
  private answers(): Promise<boolean> {
    return new Promise((done) => {
      const req = request(`${this.endpoint}/`, { ca: readFileSync(this.pki.caFile), timeout: 2_000 }, (res) => {
        res.resume();
        done(true);
      });
      req.once('error', () => done(false));
      req.once('timeout', () => req.destroy());
      req.end();
    });
  }

  stop(): Promise<void> {
    return killAndWait(this.child);
  }
}
