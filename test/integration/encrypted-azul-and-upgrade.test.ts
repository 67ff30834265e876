// Envelope encryption (keyring) on the real stack beyond kafka-v1: an azul-layout backup
// keeps its event bundles and stream blobs as ciphertext and restores to a dispatcher; and
// a backup that was plaintext before encryption was turned on restores whole, verify
// counting its unencrypted objects.
import { createHash, randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitBulk } from '../../connectors/layouts/azul/bulk.js';
import { binaryEvent } from '../helpers/azul-vectors.js';
import { readPartitions } from '../helpers/broker-records.js';
import { startDispatcherDouble, type DispatcherDouble } from '../helpers/dispatcher-double.js';
import { coldstoreVerify, keyringSettings, newKeyMaterial, objectOpener, writeKeyring } from '../helpers/encryption.js';
import { createTopic, produceLines, produceRecords } from '../helpers/kafka.js';
import { fetchObjects, s3Client, s3Settings, type FetchedObject } from '../helpers/s3.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const hex = (b: Buffer) => b.toString('hex');

function gunzipped(body: Buffer): Buffer | undefined {
  try {
    return gunzipSync(body);
  } catch {
    return undefined;
  }
}

describe('envelope encryption with a keyring: azul layout, and a backup encrypted part-way (Kafka, S3Proxy)', () => {
  let worker: TestApp;
  const dir = tmpDir('enc-azul');
  const keyring = writeKeyring(dir, 'k1', { k1: newKeyMaterial() });
  const marker = `MARKER${randomBytes(8).toString('hex')}`;

  async function waitCommitted(name: string, topic: string, offset: number) {
    await waitFor(
      `${name} committed ${topic} ${offset}`,
      () => worker.app.herder.committedOffsets().some((o) => o.topic === topic && o.offset === BigInt(offset)),
      {
        timeoutMs: 60_000,
        intervalMs: 300,
      },
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(worker.app.herder.status(name))}`);
    });
  }

  async function finished(name: string) {
    return waitFor(
      `${name} FINISHED`,
      () => {
        const s = worker.app.herder.status(name);
        const failed = s.tasks.find((t) => t.state === 'FAILED') ?? (s.connector.state === 'FAILED' ? s.connector : undefined);
        if (failed) throw new Error(`${name} failed: ${failed.trace}`);
        return s.tasks.length > 0 && s.tasks.every((t) => t.state === 'FINISHED') ? s : undefined;
      },
      { timeoutMs: 60_000 },
    );
  }

  beforeAll(async () => {
    worker = await createTestApp({ 'offset.flush.interval.ms': 100 });
  });

  afterAll(async () => {
    await worker?.app.stop();
  });

  describe('layout azul', () => {
    let source: DispatcherDouble;
    let target: DispatcherDouble;
    beforeAll(async () => {
      source = await startDispatcherDouble();
      target = await startDispatcherDouble();
    });
    afterAll(async () => {
      await source?.close();
      await target?.close();
    });

    it('stores bundles, index entries and stream blobs as ciphertext, and restores them to a dispatcher byte for byte', async () => {
      const prefix = uniqueName('p').replace(/-/g, '');
      const label = uniqueName('encazul').toLowerCase();
      const topic = `azul.${prefix}.srcenc.binary.sourced`;
      await createTopic(topic, 1);
      const blobs = [Buffer.from(`${marker} first blob `.repeat(400)), Buffer.from(`${marker} second blob `.repeat(300))];
      const shas = blobs.map((blob) => source.addStream('srcenc', 'content', blob));
      const events = Array.from({ length: 4 }, (_, i) =>
        binaryEvent({
          source: 'srcenc',
          kafkaKey: `e${i}`,
          timestampMicros: 1_700_000_000_000_000n + BigInt(i),
          streams: [{ label: 'content', sha256: shas[i % 2]! }],
        }),
      );
      await produceRecords(events.map((value) => ({ topic, partition: 0, key: null, value })));
      const storage = { ...s3Settings(), 'backup.label': label, ...keyringSettings(keyring) };
      const backup = uniqueName('enc-azul-backup');
      await worker.app.herder.putConfig(
        backup,
        {
          'connector.class': 'BackupSink',
          'topics.regex': `azul\\.${prefix}\\..*`,
          layout: 'azul',
          'dispatcher.url': source.url,
          'bundle.max.age.ms': '300',
          ...storage,
        },
        true,
      );
      await waitCommitted(backup, topic, events.length);
      await worker.app.herder.delete(backup);

      const stored = [...(await fetchObjects(s3Client(), `coldstore-${label}-events`)), ...(await fetchObjects(s3Client(), `coldstore-${label}-streams`))];
      const streams = stored.filter((o) => o.key.startsWith('srcenc/content/'));
      expect(streams.map((s) => s.key).sort()).toEqual(shas.map((sha) => `srcenc/content/${sha}`).sort());
      expect(stored.some((o) => o.key.startsWith('srcenc/binary/sourced/'))).toBe(true);
      expect(stored.some((o) => o.key.startsWith('~coldstore/azul-index/'))).toBe(true);
      // The events name their blobs by sha256 in the event body (the stream keys carry it by design, the bundles must not show it).
      const secrets = [Buffer.from(marker), ...shas.map((sha) => Buffer.from(sha)), ...events.map((e) => e.subarray(0, 48))];
      for (const object of stored) {
        for (const form of [object.body, gunzipped(object.body)].filter((b) => b !== undefined)) {
          for (const secret of secrets) expect(form.includes(secret), `${object.key} shows ${secret.toString('hex')}`).toBe(false);
        }
        expect(object.metadata, object.key).toMatchObject({ 'coldstore-enc': 'aes-256-gcm-v1', 'coldstore-enc-key-id': 'k1' });
        expect(object.metadata, object.key).not.toHaveProperty('coldstore-body-sha256');
        expect(object.metadata, object.key).not.toHaveProperty('coldstore-size');
      }
      // Opened with the keyring, the same objects are the blobs and the events.
      const opened = await objectOpener({ keyringFile: keyring })(stored);
      for (const stream of opened.filter((o) => o.key.startsWith('srcenc/content/'))) {
        expect(sha256(gunzipSync(stream.body))).toBe(stream.key.split('/')[2]);
        expect(stream.metadata['coldstore-body-sha256'] ?? stream.metadata['coldstore-size']).toBeDefined();
      }
      const bundleEvents = opened.filter((o) => o.key.startsWith('srcenc/binary/')).flatMap((b) => splitBulk('binary', gunzipSync(b.body)).events);
      expect(bundleEvents.map(hex)).toEqual(events.map(hex));

      const restore = uniqueName('enc-azul-restore');
      await worker.app.herder.putConfig(restore, { 'connector.class': 'RestoreSource', target: 'dispatcher', 'dispatcher.url': target.url, ...storage }, true);
      const status = await finished(restore);
      expect((status.tasks[0]!.progress as { bad_objects: number }).bad_objects).toBe(0);
      expect(target.events.map((e) => hex(e.bytes))).toEqual(events.map(hex));
      expect([...target.streams.entries()].map(([key, bytes]) => [key, hex(bytes)]).sort()).toEqual(
        shas.map((sha, i) => [`srcenc/content/${sha}`, hex(blobs[i]!)]).sort(),
      );
    }, 120_000);
  });

  it('a plaintext backup continued with encryption: both restore, verify counts the unencrypted objects', async () => {
    const label = uniqueName('encup').toLowerCase();
    const topic = uniqueName('enc-upgrade');
    await createTopic(topic, 1);
    const plain = { ...s3Settings(), 'backup.label': label };
    const backupConfig = { 'connector.class': 'BackupSink', topics: topic, 'bundle.max.records': '10', 'bundle.max.age.ms': '300' };
    const backup = uniqueName('enc-upgrade-backup');
    await worker.app.herder.putConfig(backup, { ...backupConfig, ...plain }, true);
    const values = Array.from({ length: 40 }, (_, i) => `v${i}`);
    produceLines(
      topic,
      0,
      values.slice(0, 20).map((v, i) => `k${i}:${v}`),
    );
    await waitCommitted(backup, topic, 20);
    await worker.app.herder.putConfig(backup, { ...backupConfig, ...plain, ...keyringSettings(keyring) }, false);
    produceLines(
      topic,
      0,
      values.slice(20).map((v, i) => `k${20 + i}:${v}`),
    );
    await waitCommitted(backup, topic, 40);
    await worker.app.herder.delete(backup);

    const bundles: FetchedObject[] = (await fetchObjects(s3Client(), `coldstore-${label}-events`)).filter((o) => o.key.startsWith(`${topic}/`));
    const plaintext = bundles.filter((b) => b.metadata['coldstore-enc'] === undefined);
    const encrypted = bundles.filter((b) => b.metadata['coldstore-enc-key-id'] === 'k1');
    expect(plaintext.length).toBeGreaterThan(0);
    expect(encrypted.length).toBeGreaterThan(0);
    expect(plaintext.length + encrypted.length).toBe(bundles.length);
    expect(plaintext.every((b) => Number(b.metadata['coldstore-range-end']) < 20)).toBe(true);
    expect(encrypted.every((b) => Number(b.metadata['coldstore-range-start']) >= 20)).toBe(true);

    const restore = uniqueName('enc-upgrade-restore');
    const restored = `${topic}-restored`;
    await worker.app.herder.putConfig(
      restore,
      { 'connector.class': 'RestoreSource', ...plain, ...keyringSettings(keyring), topics: topic, 'topic.rename': `${topic}:${restored}` },
      true,
    );
    const status = await finished(restore);
    expect(status.tasks[0]!.progress).toMatchObject({ records: 40, bad_objects: 0 });
    expect((await readPartitions([{ topic: restored, partition: 0, count: 40 }])).map((r) => r.value!.toString())).toEqual(values);

    const run = await coldstoreVerify(dir, { ...plain, ...keyringSettings(keyring) });
    expect(run.code, run.stderr).toBe(0);
    expect(run.report).toMatchObject({ ok: true, records: 40, problems: [] });
    expect(run.report.encryption.unencryptedObjects).toBeGreaterThanOrEqual(plaintext.length);
    expect(run.report.encryption.keys).toEqual([{ provider: 'keyring', keyId: 'k1', objects: encrypted.length }]);
  }, 120_000);
});
