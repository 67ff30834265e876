/**
 * Secured connections for real (docs/operations.md, "Secured Kafka and S3"): a private
 * broker with a SASL_SSL listener (SCRAM-SHA-512 over TLS) beside its plaintext one, and
 * an S3Proxy on HTTPS only, both with certificates from a CA made here with openssl. The
 * worker reaches them only through the secured endpoints; the test checks the data through
 * the plaintext listener with kcat, an independent client.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchAll, recordCount } from '../helpers/s3.js';
import type { TestApp } from '../helpers/test-app.js';
import { createTestApp } from '../helpers/test-app.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { PrivateKafka, produceTo, readTextRecords } from './private-kafka.js';
import { HttpsS3, makeTestPki, type TestPki } from './secured-servers.js';

// Distinctive, so a grep finds them wherever they leak.
const SASL_USER = 'coldstore-app';
const SASL_PASSWORD = 'sasl-Pw-7f3c9e21d';
const S3_KEY_ID = 'secured-access-key';
const S3_SECRET = 's3-Secret-91ab4c77';

const CLI = resolve(import.meta.dirname, '../../dist/app/cli/main.cjs');

function coldstore(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { maxBuffer: 16 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) =>
      done({ code: err ? Number((err as NodeJS.ErrnoException).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function statusOf(t: TestApp, name: string) {
  return t.app.herder.status(name);
}

function failedTrace(t: TestApp, name: string): string | undefined {
  const s = statusOf(t, name);
  const failed = s.tasks.find((x) => x.state === 'FAILED') ?? (s.connector.state === 'FAILED' ? s.connector : undefined);
  return failed ? (failed.trace ?? '') : undefined;
}

describe('SASL_SSL Kafka and HTTPS S3', () => {
  let kafka: PrivateKafka;
  let s3: HttpsS3;
  let pki: TestPki;
  let rogue: TestPki;
  const apps: TestApp[] = [];
  /** The backup the first test makes, for the restore with a wrong password. */
  let label = '';
  let backedUpTopic = '';

  function kafkaSettings(overrides: Record<string, string> = {}): Record<string, string> {
    return {
      'bootstrap.servers': kafka.secureBootstrap,
      'kafka.security.protocol': 'SASL_SSL',
      'kafka.sasl.mechanisms': 'SCRAM-SHA-512',
      'kafka.sasl.username': SASL_USER,
      'kafka.sasl.password': SASL_PASSWORD,
      'kafka.ssl.ca.location': pki.caFile,
      ...overrides,
    };
  }

  function storage(overrides: Record<string, string> = {}): Record<string, string> {
    return {
      'storage.type': 's3',
      's3.endpoint': s3.endpoint,
      's3.path.style': 'true',
      's3.access.key.id': S3_KEY_ID,
      's3.secret.access.key': S3_SECRET,
      's3.ca.file': pki.caFile,
      ...overrides,
    };
  }

  async function app(worker: Record<string, string>): Promise<TestApp> {
    const t = await createTestApp(worker, { captureLogs: true });
    apps.push(t);
    return t;
  }

  beforeAll(async () => {
    const dir = tmpDir('secured');
    pki = await makeTestPki(`${dir}/pki`, 'coldstore');
    rogue = await makeTestPki(`${dir}/rogue-pki`, 'rogue');
    kafka = await PrivateKafka.create(`${dir}/kafka`, { saslSsl: { keystore: pki.serverPem, users: { [SASL_USER]: SASL_PASSWORD } } });
    [s3] = await Promise.all([HttpsS3.start(`${dir}/s3`, pki, { accessKeyId: S3_KEY_ID, secretAccessKey: S3_SECRET }), kafka.start()]);
  }, 180_000);

  afterAll(async () => {
    for (const t of apps) await t.app.stop().catch(() => undefined);
    await kafka?.stop();
    await s3?.stop();
  });

  /** Every answer and line a person or a scraper could see of this worker. */
  async function everythingShown(t: TestApp, names: string[]): Promise<string> {
    const urls = [
      '/',
      '/ready',
      '/metrics',
      '/connectors?expand=status&expand=info',
      ...names.flatMap((n) => [`/connectors/${n}`, `/connectors/${n}/config`, `/connectors/${n}/status`]),
    ];
    const answers = await Promise.all(urls.map(async (u) => `${u}: ${(await t.call('GET', u)).text}`));
    return [...answers, ...names.map((n) => JSON.stringify(statusOf(t, n))), ...t.logs].join('\n');
  }

  function expectNoSecrets(shown: string, extra: string[] = []): void {
    for (const secret of [SASL_PASSWORD, S3_SECRET, ...extra]) expect(shown.includes(secret), `"${secret}" shown`).toBe(false);
  }

  async function failure(t: TestApp, name: string): Promise<string> {
    return waitFor('the task FAILED', () => failedTrace(t, name), { timeoutMs: 90_000 }).catch((err: Error) => {
      throw new Error(`${err.message}; status ${JSON.stringify(statusOf(t, name))}; logs:\n${t.logs.slice(-20).join('')}`);
    });
  }

  it('backs up through SASL_SSL into HTTPS S3 and restores through them, exactly once and byte for byte; no secret is shown', async () => {
    const topic = uniqueName('secured');
    const lines = Array.from({ length: 300 }, (_, i) => `k${i}:value-${i}-${'x'.repeat(i % 17)}`);
    await produceTo(kafka.bootstrap, topic, 0, lines);
    const original = await readTextRecords(kafka.bootstrap, topic, 1);
    expect(original).toHaveLength(300);

    const t = await app(kafkaSettings());
    label = uniqueName('sec').toLowerCase();
    backedUpTopic = topic;
    const backup = uniqueName('backup');
    await t.app.herder.putConfig(
      backup,
      { 'connector.class': 'BackupSink', topics: topic, 'bundle.max.records': '40', 'bundle.max.age.ms': '300', ...storage(), 'backup.label': label },
      true,
    );
    // A client of the test's own, trusting the test CA, counts what reached the bucket.
    const client = new S3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: S3_KEY_ID, secretAccessKey: S3_SECRET },
      requestHandler: { httpsAgent: new Agent({ ca: readFileSync(pki.caFile) }) },
    });
    await waitFor(
      'every record backed up',
      async () => {
        const trace = failedTrace(t, backup);
        if (trace) throw new Error(`backup FAILED: ${trace}`);
        return recordCount(await fetchAll(client, `coldstore-${label}-events`).catch(() => [])) >= original.length;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );

    const restored = `${topic}-restored`;
    const restore = uniqueName('restore');
    await t.app.herder.putConfig(
      restore,
      { 'connector.class': 'RestoreSource', topics: topic, 'topic.rename': `${topic}:${restored}`, ...storage(), 'backup.label': label },
      true,
    );
    await waitFor(
      'the restore FINISHED',
      () => {
        const trace = failedTrace(t, restore);
        if (trace) throw new Error(`restore FAILED: ${trace}`);
        const s = statusOf(t, restore);
        return s.tasks.length > 0 && s.tasks.every((x) => x.state === 'FINISHED');
      },
      { timeoutMs: 90_000 },
    );
    const back = await readTextRecords(kafka.bootstrap, restored, 1);
    expect(back.map((r) => [r.offset, r.key, r.value])).toEqual(original.map((r) => [r.offset, r.key, r.value]));

    // The store commands read the same settings from a connector file: s3.ca.file included.
    const file = (name: string, ca: string) => {
      const path = join(tmpDir('secured-cli'), `${name}.json`);
      writeFileSync(
        path,
        JSON.stringify({ name, config: { 'connector.class': 'BackupSink', topics: topic, ...storage({ 's3.ca.file': ca }), 'backup.label': label } }),
      );
      return path;
    };
    const verified = await coldstore(['verify', '--config', file('trusted', pki.caFile)]);
    expect(verified.code, verified.stderr).toBe(0);
    const refused = await coldstore(['verify', '--config', file('untrusted', rogue.caFile)]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/TLS certificate of https:\/\/127\.0\.0\.1:\d+ is not trusted/);
    expect(refused.stderr).toContain('s3.ca.file');
    expectNoSecrets(verified.stdout + verified.stderr + refused.stdout + refused.stderr);

    const shown = await everythingShown(t, [backup, restore]);
    // The answers are the real ones (a masked secret key, running connectors), not empty pages.
    expect(shown).toContain('s3.secret.access.key');
    expect(shown).toContain('coldstore_');
    expectNoSecrets(shown);
  });

  it('a wrong SASL password fails the task with an error naming authentication, not a hang; /ready says so too', async () => {
    const wrong = 'not-the-Password-42';
    const t = await app(kafkaSettings({ 'kafka.sasl.password': wrong }));
    const name = uniqueName('badpw');
    await t.app.herder.putConfig(name, { 'connector.class': 'BackupSink', topics: 'anything', ...storage(), 'backup.label': name }, true);
    const trace = await failure(t, name);
    expect(trace).toMatch(/^\[KAFKA_ERROR\]/);
    expect(trace).toMatch(/SASL authentication error/);
    expect(trace).toMatch(/kafka\.sasl\.password/);
    const ready = await waitFor('/ready naming authentication', async () => {
      const r = await t.call('GET', '/ready');
      return r.status === 503 && /authentication/i.test(r.body.checks.kafka.message ?? '') ? r : undefined;
    });
    expect(ready.body.checks.kafka.ok).toBe(false);
    expectNoSecrets(await everythingShown(t, [name]), [wrong]);
  });

  it('a restore with a wrong SASL password fails with an error naming authentication, not a hang', async () => {
    expect(label, 'the round trip ran first').not.toBe('');
    const wrong = 'also-not-the-Password-7';
    const t = await app(kafkaSettings({ 'kafka.sasl.password': wrong }));
    const name = uniqueName('badpw-restore');
    await t.app.herder.putConfig(
      name,
      {
        'connector.class': 'RestoreSource',
        topics: backedUpTopic,
        'topic.rename': `${backedUpTopic}:${backedUpTopic}-again`,
        ...storage(),
        'backup.label': label,
      },
      true,
    );
    const trace = await failure(t, name);
    expect(trace).toMatch(/^\[KAFKA_ERROR\]/);
    expect(trace).toMatch(/SASL authentication error/);
    expectNoSecrets(await everythingShown(t, [name]), [wrong]);
  });

  it('a broker certificate from a CA the worker does not trust fails the task with an error naming TLS and the certificate', async () => {
    const t = await app(kafkaSettings({ 'kafka.ssl.ca.location': rogue.caFile }));
    const name = uniqueName('badca');
    await t.app.herder.putConfig(name, { 'connector.class': 'BackupSink', topics: 'anything', ...storage(), 'backup.label': name }, true);
    const trace = await failure(t, name);
    expect(trace).toMatch(/^\[KAFKA_ERROR\]/);
    expect(trace).toMatch(/TLS\/certificate error/);
    expect(trace).toMatch(/certificate verify failed/);
    expect(trace).toMatch(/kafka\.ssl\.ca\.location/);
  });

  it('an S3 certificate from a CA the worker does not trust fails the task with an error naming the certificate and s3.ca.file', async () => {
    // A record to back up, so the task writes a bundle (the first thing it must do on S3).
    const topic = uniqueName('s3ca');
    await produceTo(kafka.bootstrap, topic, 0, ['k:v']);
    const t = await app(kafkaSettings());
    const name = uniqueName('s3ca');
    await t.app.herder.putConfig(
      name,
      { 'connector.class': 'BackupSink', topics: topic, ...storage({ 's3.ca.file': rogue.caFile }), 'backup.label': name },
      true,
    );
    const trace = await failure(t, name);
    expect(trace).toMatch(/^\[STORE_IO\]/);
    expect(trace).toMatch(/TLS certificate of https:\/\/127\.0\.0\.1:\d+ is not trusted/);
    expect(trace).toMatch(/s3\.ca\.file/);
    expectNoSecrets(await everythingShown(t, [name]));
  });
});
