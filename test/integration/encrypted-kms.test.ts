/**
 * BackupSink and RestoreSource with AWS KMS envelope encryption against the stack's moto
 * KMS (docs/operations.md, "Encryption keys"): a round trip through an alias; a key
 * disabled under a running backup fails the task naming the key with nothing committed
 * beyond durable bundles, and once enabled a restart goes on exactly once; moving to
 * another key, `coldstore verify` counts the objects each key wrapped and names the one
 * it cannot use; the KMS secret shows in no REST answer, trace, log line or metric.
 */
import { DisableKeyCommand, EnableKeyCommand } from '@aws-sdk/client-kms';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPartitions } from '../helpers/broker-records.js';
import { checkCoverage } from '../helpers/bundle-reader.js';
import { createTopic, produceSteadily } from '../helpers/kafka.js';
import { createAlias, createKmsKey, kmsClient, uniqueAliasName } from '../helpers/kms.js';
import { backupConfig, eventsBucket, kmsEncryption, kmsReading, proveDecrypted, untilStored } from '../helpers/kms-backup.js';
import { fetchAll, s3Client, s3Settings } from '../helpers/s3.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const CLI = resolve(import.meta.dirname, '../../dist/app/cli/main.cjs');
/** Given to every connector here, so any leak of it anywhere is found. moto accepts any secret. */
const SECRET = `kms-secret-${randomBytes(12).toString('hex')}`;

let t: TestApp;
const kms = kmsClient();
const dir = tmpDir('encrypted-kms');
const secretOptions = { secret: SECRET };

beforeAll(async () => {
  t = await createTestApp({}, { captureLogs: true });
});

afterAll(async () => {
  await t?.app.stop();
});

function coldstore(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      done({ code: err ? Number((err as NodeJS.ErrnoException).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function put(name: string, config: Record<string, string>): Promise<void> {
  const reply = await t.call('PUT', `/connectors/${name}/config`, config);
  expect([200, 201], reply.text).toContain(reply.status);
}

async function taskState(name: string): Promise<{ state: string; trace?: string }> {
  return ((await t.call('GET', `/connectors/${name}/status`)).body?.tasks?.[0] as { state: string; trace?: string } | undefined) ?? { state: 'NONE' };
}

/** The objects a store listing keeps as the ranges of each partition, by ARN of the key each is encrypted with. */
function keysInOffsetOrder(objects: { key: string; metadata: Record<string, string> }[]): string[][] {
  const sorted = [...objects].sort((a, b) => (a.key < b.key ? -1 : 1));
  const byPartition = new Map<string, string[]>();
  for (const o of sorted) {
    const partition = o.key.split('/').slice(0, 2).join('/');
    byPartition.set(partition, [...(byPartition.get(partition) ?? []), o.metadata['coldstore-enc-key-id'] ?? 'plaintext']);
  }
  return [...byPartition.values()];
}

describe('BackupSink with AWS KMS (the stack moto server)', () => {
  it('round trip through an alias: objects name the key ARN, the restore is byte for byte the source', async () => {
    const key = await createKmsKey('encrypted-kms round trip');
    const alias = await createAlias(uniqueAliasName('enc-roundtrip'), key.keyId);
    const topic = uniqueName('enckms-rt');
    const label = uniqueName('enckms-rt').toLowerCase();
    await createTopic(topic, 2);
    await produceSteadily(topic, 2, 0, 300);
    await put('kms-roundtrip', backupConfig(topic, label, kmsEncryption(alias, secretOptions)));
    await untilStored(eventsBucket(label), 600);

    const proof = await proveDecrypted(eventsBucket(label), topic, [300, 300]);
    expect(proof.problems).toEqual([]);
    expect(proof.records).toBe(600);
    expect(new Set(proof.stored.map((o) => o.metadata['coldstore-enc-key-id']))).toEqual(new Set([key.arn]));

    const target = `${topic}-restored`;
    await put('kms-restore', {
      'connector.class': 'RestoreSource',
      topics: topic,
      'topic.rename': `${topic}:${target}`,
      'backup.label': label,
      ...s3Settings(),
      ...kmsReading(secretOptions),
    });
    await waitFor(
      'restore FINISHED',
      async () => {
        const task = await taskState('kms-restore');
        if (task.state === 'FAILED') throw new Error(`restore FAILED: ${task.trace}`);
        return task.state === 'FINISHED';
      },
      { timeoutMs: 60_000, intervalMs: 300 },
    );
    const fields = (r: Awaited<ReturnType<typeof readPartitions>>[number]) => ({
      partition: r.partition,
      offset: r.offset,
      key: r.key?.toString('hex') ?? null,
      value: r.value?.toString('hex') ?? null,
      timestamp: r.timestamp,
      headers: r.headers,
    });
    const original = await readPartitions([0, 1].map((partition) => ({ topic, partition })));
    const restored = await readPartitions([0, 1].map((partition) => ({ topic: target, partition, count: 300 })));
    expect(restored.map(fields)).toEqual(original.map(fields));
  });

  it('DisableKey under a running backup: FAILED with ENCRYPTION_KEY_UNAVAILABLE naming the key, nothing committed past durable bundles; EnableKey and a restart go on exactly once', async () => {
    const key = await createKmsKey('encrypted-kms disable');
    const topic = uniqueName('enckms-dis');
    const label = uniqueName('enckms-dis').toLowerCase();
    const bucket = eventsBucket(label);
    await createTopic(topic, 1);
    await put('kms-disable', backupConfig(topic, label, kmsEncryption(key.arn, secretOptions)));
    await produceSteadily(topic, 1, 0, 200);
    await untilStored(bucket, 200);

    await kms.send(new DisableKeyCommand({ KeyId: key.keyId }));
    await produceSteadily(topic, 1, 200, 400);
    const failed = await waitFor(
      'the task FAILED',
      async () => {
        const task = await taskState('kms-disable');
        return task.state === 'FAILED' ? task : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 300 },
    );
    expect(failed.trace).toContain('ENCRYPTION_KEY_UNAVAILABLE');
    expect(failed.trace).toContain(key.arn);
    expect(failed.trace).not.toContain(SECRET);
    // Let any offset flush land, then: every committed offset is the end of a stored, contiguous range.
    await new Promise((r) => setTimeout(r, 1500));
    const stored = await fetchAll(s3Client(), bucket);
    const ranges = checkCoverage(stored.map((o) => o.key)).get(`${topic}/0`) ?? [];
    const durableEnd = Number(ranges[ranges.length - 1]?.end ?? -1n) + 1;
    expect(durableEnd).toBeGreaterThanOrEqual(200);
    expect(durableEnd).toBeLessThan(400);
    const committed = t.app.herder.committedOffsets().find((o) => o.topic === topic && o.partition === 0);
    expect(Number(committed?.offset ?? 0)).toBeLessThanOrEqual(durableEnd);

    await kms.send(new EnableKeyCommand({ KeyId: key.keyId }));
    expect((await t.call('POST', '/connectors/kms-disable/restart?includeTasks=true')).status).toBeLessThan(300);
    await untilStored(bucket, 400);
    const proof = await proveDecrypted(bucket, topic, [400]);
    expect(proof.problems).toEqual([]);
    expect(proof.duplicated).toBe(0);
    expect(proof.records).toBe(400);
    expect((await taskState('kms-disable')).state).toBe('RUNNING');
  });

  it('a new key by PUT config: new objects name the second ARN; verify --json counts both keys, and names the first once it is disabled', async () => {
    const first = await createKmsKey('encrypted-kms first');
    const second = await createKmsKey('encrypted-kms second');
    const topic = uniqueName('enckms-rot');
    const label = uniqueName('enckms-rot').toLowerCase();
    const bucket = eventsBucket(label);
    await createTopic(topic, 2);
    await put('kms-rotate', backupConfig(topic, label, kmsEncryption(first.arn, secretOptions)));
    await produceSteadily(topic, 2, 0, 150);
    await untilStored(bucket, 300);
    await put('kms-rotate', backupConfig(topic, label, kmsEncryption(second.arn, secretOptions)));
    await produceSteadily(topic, 2, 150, 300);
    const objects = await untilStored(bucket, 600);

    const keysByPartition = keysInOffsetOrder(objects);
    expect(keysByPartition).toHaveLength(2);
    for (const keys of keysByPartition) {
      // First-key objects, then second-key ones: nothing written after the change uses the old key.
      expect(keys[0]).toBe(first.arn);
      expect(keys[keys.length - 1]).toBe(second.arn);
      expect(keys.slice(keys.indexOf(second.arn))).toEqual(keys.slice(keys.indexOf(second.arn)).map(() => second.arn));
    }
    const count = (arn: string) => objects.filter((o) => o.metadata['coldstore-enc-key-id'] === arn).length;
    expect(count(first.arn) + count(second.arn)).toBe(objects.length);

    const configFile = join(dir, 'verify-rotate.json');
    writeFileSync(configFile, JSON.stringify({ name: 'kms-rotate', config: backupConfig(topic, label, kmsEncryption(second.arn, secretOptions)) }));
    const verified = await coldstore(['verify', '--config', configFile, '--json']);
    expect(verified.code, verified.stderr).toBe(0);
    const report = JSON.parse(verified.stdout) as { ok: boolean; records: number; encryption: unknown };
    expect(report.ok).toBe(true);
    expect(report.records).toBe(600);
    expect(report.encryption).toEqual({
      keys: [
        { provider: 'aws-kms', keyId: first.arn, objects: count(first.arn) },
        { provider: 'aws-kms', keyId: second.arn, objects: count(second.arn) },
      ].sort((a, b) => (a.keyId < b.keyId ? -1 : 1)),
      unencryptedObjects: 0,
    });
    expect(verified.stdout).not.toContain(SECRET);

    await kms.send(new DisableKeyCommand({ KeyId: first.keyId }));
    const refused = await coldstore(['verify', '--config', configFile, '--json']);
    expect(refused.code, refused.stderr).toBe(1);
    const problems = (JSON.parse(refused.stdout) as { problems: { kind: string; key: string; message: string }[] }).problems;
    expect(problems).toHaveLength(count(first.arn));
    for (const problem of problems) {
      expect(problem.kind).toBe('key-unavailable');
      expect(problem.message).toContain(first.arn);
    }
    expect(refused.stdout + refused.stderr).not.toContain(SECRET);
  });

  it('the KMS secret appears in no REST answer, status trace, log line or metric', async () => {
    const names = t.app.herder.names();
    expect(names.length).toBeGreaterThanOrEqual(3);
    const answers: string[] = [];
    for (const path of ['/connectors?expand=info&expand=status', '/metrics']) answers.push((await t.call('GET', path)).text);
    for (const name of names) {
      const config = await t.call('GET', `/connectors/${name}/config`);
      expect(config.body['encryption.kms.secret.access.key'], name).toBe('[hidden]');
      for (const path of ['', '/config', '/status', '/tasks', '/offsets']) answers.push((await t.call('GET', `/connectors/${name}${path}`)).text);
    }
    const validated = await t.call('PUT', '/connector-plugins/BackupSink/config/validate', {
      name: 'v',
      ...backupConfig('t', 'l', kmsEncryption('alias/nope', secretOptions)),
    });
    answers.push(validated.text);
    expect(answers.join('\n')).not.toContain(SECRET);
    expect(t.logs.length).toBeGreaterThan(0);
    expect(t.logs.filter((line) => line.includes(SECRET))).toEqual([]);
  });
});
