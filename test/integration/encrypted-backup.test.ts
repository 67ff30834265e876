// Client-side envelope encryption on the real stack (Kafka + S3Proxy), keyring provider:
// a BackupSink backup and a RestoreSource restore round-trip records byte for byte while
// every object in the bucket (bundles, claims, manifests, ~coldstore/ metadata) holds
// ciphertext only; bad keyring settings are refused naming the field; key material shows
// up in no REST answer, log line or metric.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPartitions, type BrokerRecord } from '../helpers/broker-records.js';
import { readBundle } from '../helpers/bundle-reader.js';
import { keyringSettings, newKeyMaterial, objectOpener, writeKeyring } from '../helpers/encryption.js';
import { createTopic, produceRecords } from '../helpers/kafka.js';
import { fetchObjects, s3Client, s3Settings, type FetchedObject } from '../helpers/s3.js';
import { badFields, createTestApp, type TestApp } from '../helpers/test-app.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const PARTITIONS = 2;
const marker = `MARKER${randomBytes(8).toString('hex')}`;

/** Records with the marker in keys, values and headers; a run of identical ones; one large value repeating it. */
function markedRecords(
  topic: string,
): { topic: string; partition: number; timestamp: number; key: Buffer | null; value: Buffer | null; headers: { key: string; value: Buffer | null }[] }[] {
  const out = [];
  for (let i = 0; i < 40; i++) {
    out.push({
      topic,
      partition: i % PARTITIONS,
      timestamp: 1_700_000_000_000 + i,
      key: i % 5 === 0 ? null : Buffer.from(`key-${i}-${marker}`),
      value: Buffer.from(`value ${i} carries ${marker} ✓`),
      headers: [{ key: `h-${marker}`, value: Buffer.from(`${marker}-${i}`) }],
    });
  }
  for (let i = 0; i < 12; i++) {
    out.push({
      topic,
      partition: 0,
      timestamp: 1_700_000_001_000,
      key: Buffer.from(marker),
      value: Buffer.from(marker),
      headers: [{ key: 'same', value: Buffer.from(marker) }],
    });
  }
  out.push({ topic, partition: 1, timestamp: 1_700_000_002_000, key: null, value: Buffer.from(marker.repeat(5_000)), headers: [] });
  return out;
}

/** What a restore keeps: everything but the offset. */
const content = (r: BrokerRecord) => ({
  partition: r.partition,
  timestamp: String(r.timestamp),
  key: r.key?.toString('hex') ?? null,
  value: r.value?.toString('hex') ?? null,
  headers: r.headers.map((h) => [h.key, h.value?.toString('hex') ?? null]),
});

/** The bytes in which the marker could show: the stored body, and its gunzipped form when it gunzips. */
function readableForms(object: FetchedObject): Buffer[] {
  try {
    return [object.body, gunzipSync(object.body)];
  } catch {
    return [object.body];
  }
}

describe('envelope-encrypted backup and restore with a keyring (Kafka, S3Proxy)', () => {
  let worker: TestApp;
  const dir = tmpDir('enc-backup');
  const keyMaterial = newKeyMaterial();
  const keyring = writeKeyring(dir, 'k1', { k1: keyMaterial });
  const label = uniqueName('enc').toLowerCase();
  const bucket = `coldstore-${label}-events`;
  const topic = uniqueName('enc-orders');
  const backupName = uniqueName('enc-backup');
  const storage = { ...s3Settings(), 'backup.label': label, ...keyringSettings(keyring) };
  let source: BrokerRecord[];
  let everything: FetchedObject[];

  beforeAll(async () => {
    await createTopic(topic, PARTITIONS);
    await produceRecords(markedRecords(topic));
    source = await readPartitions(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition })));
    expect(source).toHaveLength(53);
    worker = await createTestApp({ 'offset.flush.interval.ms': 200 }, { captureLogs: true });
    await worker.app.herder.putConfig(
      backupName,
      { 'connector.class': 'BackupSink', topics: topic, 'bundle.max.records': '7', 'bundle.max.age.ms': '300', 'gzip.level': '1', ...storage },
      true,
    );
    await waitFor(
      'every record committed',
      () =>
        Array.from({ length: PARTITIONS }, (_, p) => p).every((p) =>
          worker.app.herder
            .committedOffsets()
            .some((o) => o.topic === topic && o.partition === p && o.offset === BigInt(source.filter((r) => r.partition === p).length)),
        ),
      { timeoutMs: 60_000, intervalMs: 300 },
    );
    const created = await worker.call('POST', '/backups/1');
    expect(created.status, created.text).toBe(202);
    await waitFor(
      'backup 1 COMPLETED',
      async () => {
        const reply = await worker.call('GET', '/backups/1');
        if (reply.body?.status === 'FAILED') throw new Error(`backup 1 failed: ${reply.body.failureReason}`);
        return reply.body?.status === 'COMPLETED';
      },
      { timeoutMs: 60_000, intervalMs: 300 },
    );
    everything = await fetchObjects(s3Client(), bucket);
  }, 180_000);

  afterAll(async () => {
    await worker?.app.stop();
  });

  it('stores every object of the bucket encrypted: no marker in any body (gunzipped or not) or metadata, no plaintext digest', async () => {
    const keys = everything.map((o) => o.key);
    expect(keys.some((k) => k.startsWith(`${topic}/0/`))).toBe(true);
    expect(keys.some((k) => k.startsWith('~coldstore/claims/'))).toBe(true);
    expect(keys.some((k) => k.startsWith('~coldstore/topics/'))).toBe(true);
    expect(keys.filter((k) => k.endsWith(`${encodeURIComponent(backupName)}.json`) && k.includes('backups'))).toHaveLength(1);
    for (const object of everything) {
      for (const form of readableForms(object)) expect(form.includes(marker), `${object.key} holds the marker`).toBe(false);
      expect(JSON.stringify(object.metadata), object.key).not.toContain(marker);
      expect(object.metadata, object.key).not.toHaveProperty('coldstore-body-sha256');
      expect(object.metadata, object.key).not.toHaveProperty('coldstore-body-bytes');
      expect(object.metadata, object.key).toMatchObject({
        'coldstore-enc': 'aes-256-gcm-v1',
        'coldstore-enc-provider': 'keyring',
        'coldstore-enc-key-id': 'k1',
      });
    }
    // The same objects opened with the keyring do hold the marker: the scan above looks where it would be.
    const opened = await objectOpener({ keyringFile: keyring })(everything);
    const bundles = opened.filter((o) => o.key.startsWith(`${topic}/`));
    expect(bundles.every((b) => gunzipSync(b.body).includes(marker))).toBe(true);
    expect(bundles.every((b) => /^[0-9a-f]{64}$/.test(b.metadata['coldstore-body-sha256'] ?? ''))).toBe(true);
    const records = bundles.flatMap((b) => readBundle(b.key, b.body).records);
    expect(records.map((r) => `${r.partition}/${r.offset}`).sort()).toEqual(source.map((r) => `${r.partition}/${r.offset}`).sort());
    const manifest = opened.find((o) => o.key.includes('backups') && o.key.endsWith('.json'))!;
    expect(JSON.parse(manifest.body.toString()).backupId).toBe(1);
  });

  it('restores into a new topic with the same keyring: every record once, byte for byte', async () => {
    const target = `${topic}-restored`;
    const name = uniqueName('enc-restore');
    await worker.app.herder.putConfig(name, { 'connector.class': 'RestoreSource', ...storage, topics: topic, 'topic.rename': `${topic}:${target}` }, true);
    const status = await waitFor(
      `${name} FINISHED`,
      () => {
        const s = worker.app.herder.status(name);
        const failed = s.tasks.find((t) => t.state === 'FAILED');
        if (failed) throw new Error(`restore failed: ${failed.trace}`);
        return s.tasks.length > 0 && s.tasks.every((t) => t.state === 'FINISHED') ? s : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(status.tasks.reduce((n, t) => n + (t.progress as { records: number }).records, 0)).toBe(source.length);
    expect(status.tasks.every((t) => (t.progress as { bad_objects: number }).bad_objects === 0)).toBe(true);
    const restored = await readPartitions(
      Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: target, partition, count: source.filter((r) => r.partition === partition).length })),
    );
    expect(restored.map(content)).toEqual(source.map(content));
  });

  it('refuses encryption.provider=keyring without a file, or with a 16-byte key, naming encryption.keyring.file (HTTP 400)', async () => {
    const shortKey = randomBytes(16).toString('base64');
    const shortKeyring = writeKeyring(dir, 'short', { short: shortKey });
    const notJson = join(dir, 'not-json.json');
    writeFileSync(notJson, `{"active": "k1", "keys": {"k1": "${keyMaterial}"`);
    const base = { 'connector.class': 'BackupSink', topics: topic, ...s3Settings(), 'backup.label': label };
    for (const [settings, message] of [
      [{ 'encryption.provider': 'keyring' }, /encryption\.keyring\.file: is required with encryption\.provider=keyring/],
      [keyringSettings(shortKeyring), /key "short" in .* is not 32 bytes of base64/],
      [keyringSettings(join(dir, 'absent.json')), /cannot read .*absent\.json \(ENOENT\)/],
      [keyringSettings(notJson), /is not JSON/],
    ] as const) {
      const put = await worker.call('PUT', `/connectors/${uniqueName('bad-enc')}/config`, { ...base, ...settings });
      expect(put.status, put.text).toBe(400);
      expect(badFields(put)).toEqual(['encryption.keyring.file']);
      expect(put.body.message).toMatch(message);
      const post = await worker.call('POST', '/connectors', { name: uniqueName('bad-enc'), config: { ...base, ...settings } });
      expect(post.status, post.text).toBe(400);
      expect(badFields(post)).toEqual(['encryption.keyring.file']);
      for (const reply of [put, post]) {
        expect(reply.text).not.toContain(shortKey);
        expect(reply.text).not.toContain(keyMaterial);
      }
    }
    const validated = await worker.call('PUT', '/connector-plugins/BackupSink/config/validate', { ...base, ...keyringSettings(shortKeyring) });
    expect(validated.status, validated.text).toBe(200);
    expect(validated.body.error_count).toBeGreaterThan(0);
    expect(validated.text).not.toContain(shortKey);
  });

  it('shows the key material nowhere: connector config and status, validate, /metrics, the worker log', async () => {
    const answers = [
      await worker.call('GET', `/connectors/${backupName}`),
      await worker.call('GET', `/connectors/${backupName}/config`),
      await worker.call('GET', `/connectors/${backupName}/status`),
      await worker.call('GET', '/connectors?expand=status&expand=info'),
      await worker.call('PUT', '/connector-plugins/BackupSink/config/validate', { 'connector.class': 'BackupSink', topics: topic, ...storage }),
      await worker.call('GET', '/backups/1'),
      await worker.call('GET', '/metrics'),
    ];
    for (const answer of answers) expect(answer.status, answer.text).toBe(200);
    expect(answers[1]!.body['encryption.keyring.file']).toBe(keyring);
    const decoded = Buffer.from(keyMaterial, 'base64');
    for (const text of [...answers.map((a) => a.text), worker.logs.join('')]) {
      expect(text).not.toContain(keyMaterial);
      expect(text).not.toContain(decoded.toString('hex'));
    }
    expect(worker.logs.length).toBeGreaterThan(0);
  });
});
