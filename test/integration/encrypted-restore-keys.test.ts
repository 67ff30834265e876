// Keyring rotation, a missing key and a tampered object, on the real stack (Kafka +
// S3Proxy): a backup written half with key k1 and half with k2 restores whole with a
// keyring holding both, `coldstore verify` names both keys; without k1 its objects fail
// the restore or are skipped as key-unavailable; one flipped byte is not-authentic.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaAdmin } from '../../runtime/kafka/admin.js';
import { readPartitions } from '../helpers/broker-records.js';
import { coldstoreVerify, keyringSettings, newKeyMaterial, writeKeyring } from '../helpers/encryption.js';
import { bootstrap, createTopic, produceLines } from '../helpers/kafka.js';
import { fetchObjects, s3Client, s3Settings, type FetchedObject } from '../helpers/s3.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const HALF = 30;

type Progress = { records: number; bad_objects: number; skipped?: { kind: string; key: string; message: string }[] };

describe('keyring rotation, a missing key and a tampered object (Kafka, S3Proxy)', () => {
  let worker: TestApp;
  const dir = tmpDir('enc-keys');
  const [k1, k2] = [newKeyMaterial(), newKeyMaterial()];
  const keyring = writeKeyring(dir, 'k1', { k1 }, 'keyring.json');
  const withoutK1 = writeKeyring(dir, 'k2', { k2 }, 'keyring-without-k1.json');
  const label = uniqueName('encrot').toLowerCase();
  const bucket = `coldstore-${label}-events`;
  const topic = uniqueName('enc-rot');
  const storage = (keyringFile: string) => ({ ...s3Settings(), 'backup.label': label, ...keyringSettings(keyringFile) });
  let bundles: FetchedObject[];
  const keyOf = (o: FetchedObject) => o.metadata['coldstore-enc-key-id'];

  async function committed(name: string, offset: number) {
    await waitFor(`${name} committed ${offset}`, () => worker.app.herder.committedOffsets().some((o) => o.topic === topic && o.offset === BigInt(offset)), {
      timeoutMs: 60_000,
      intervalMs: 300,
    }).catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(worker.app.herder.status(name))}`);
    });
  }

  async function restore(keyringFile: string, onBad: 'fail' | 'skip', want: 'FINISHED' | 'FAILED') {
    const name = uniqueName('enc-restore');
    const target = `${topic}-${name}`;
    await worker.app.herder.putConfig(
      name,
      { 'connector.class': 'RestoreSource', ...storage(keyringFile), topics: topic, 'topic.rename': `${topic}:${target}`, 'on.bad.object': onBad },
      true,
    );
    const task = await waitFor(
      `${name} ${want}`,
      () => {
        const t = worker.app.herder.status(name).tasks[0];
        if (t && t.state !== want && (t.state === 'FAILED' || t.state === 'FINISHED'))
          throw new Error(`${name} ${t.state}: ${t.trace ?? JSON.stringify(t.progress)}`);
        return t?.state === want ? t : undefined;
      },
      { timeoutMs: 60_000 },
    );
    return { target, task, progress: task.progress as Progress };
  }

  /** The values restored into `target` (none when the restore did not get as far as creating it). */
  async function restoredValues(target: string): Promise<string[]> {
    const admin = new KafkaAdmin({ bootstrapServers: bootstrap(), extra: {} }, 'enc-test-admin');
    try {
      if (!(await admin.describeTopic(target))) return [];
    } finally {
      admin.disconnect();
    }
    return (await readPartitions([{ topic: target, partition: 0 }])).map((r) => r.value!.toString());
  }

  const values = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `v${from + i}`);

  beforeAll(async () => {
    await createTopic(topic, 1);
    worker = await createTestApp({ 'offset.flush.interval.ms': 200 });
    const backup = uniqueName('enc-rot-backup');
    await worker.app.herder.putConfig(
      backup,
      { 'connector.class': 'BackupSink', topics: topic, 'bundle.max.records': '10', 'bundle.max.age.ms': '300', ...storage(keyring) },
      true,
    );
    produceLines(
      topic,
      0,
      values(0, HALF).map((v, i) => `k${i}:${v}`),
    );
    await committed(backup, HALF);
    // Rotation: k2 becomes active, k1 stays to read what it wrote; the tasks read the keyring when they start.
    writeKeyring(dir, 'k2', { k1, k2 }, 'keyring.json');
    await worker.app.herder.restart(backup, true, false);
    produceLines(
      topic,
      0,
      values(HALF, 2 * HALF).map((v, i) => `k${HALF + i}:${v}`),
    );
    await committed(backup, 2 * HALF);
    await worker.app.herder.delete(backup);
    bundles = (await fetchObjects(s3Client(), bucket)).filter((o) => o.key.startsWith(`${topic}/`)).sort((a, b) => (a.key < b.key ? -1 : 1));
  }, 180_000);

  afterAll(async () => {
    await worker?.app.stop();
  });

  it('writes the first half with k1 and the rest with k2', () => {
    expect(bundles.map((b) => b.metadata['coldstore-range-start'])).toEqual(
      bundles.map((b) => b.metadata['coldstore-range-start']).sort((a, b) => Number(a) - Number(b)),
    );
    const firstK2 = bundles.findIndex((b) => keyOf(b) === 'k2');
    expect(firstK2).toBeGreaterThan(0);
    expect(bundles.slice(0, firstK2).every((b) => keyOf(b) === 'k1' && Number(b.metadata['coldstore-range-end']) < HALF)).toBe(true);
    expect(bundles.slice(firstK2).every((b) => keyOf(b) === 'k2' && Number(b.metadata['coldstore-range-start']) >= HALF)).toBe(true);
  });

  it('restores everything with the rotated keyring; verify names both keys and exits 0', async () => {
    const { target, progress } = await restore(keyring, 'fail', 'FINISHED');
    expect(progress).toMatchObject({ records: 2 * HALF, bad_objects: 0 });
    expect(await restoredValues(target)).toEqual(values(0, 2 * HALF));

    const run = await coldstoreVerify(dir, storage(keyring));
    expect(run.code, run.stderr).toBe(0);
    expect(run.report).toMatchObject({ ok: true, records: 2 * HALF, problems: [] });
    const count = (id: string) => bundles.filter((b) => keyOf(b) === id).length;
    expect(run.report.encryption.unencryptedObjects).toBe(0);
    expect(run.report.encryption.keys.map((k) => [k.provider, k.keyId, k.objects]).sort()).toEqual([
      ['keyring', 'k1', count('k1')],
      ['keyring', 'k2', count('k2')],
    ]);
  }, 120_000);

  it('without k1: on.bad.object=fail FAILS naming k1 and its object, restoring none of its records', async () => {
    const { target, task } = await restore(withoutK1, 'fail', 'FAILED');
    expect(task.trace).toContain('[BACKUP_OBJECT_INVALID]');
    expect(task.trace).toContain('key-unavailable');
    expect(task.trace).toContain('needs keyring key "k1"');
    expect(bundles.filter((b) => keyOf(b) === 'k1').some((b) => task.trace!.includes(b.key))).toBe(true);
    const restored = await restoredValues(target);
    expect(restored.filter((v) => values(0, HALF).includes(v))).toEqual([]);
  });

  it('without k1: on.bad.object=skip skips its objects as key-unavailable and restores those of k2', async () => {
    const { target, progress } = await restore(withoutK1, 'skip', 'FINISHED');
    const k1Objects = bundles.filter((b) => keyOf(b) === 'k1').map((b) => b.key);
    expect(progress.records).toBe(HALF);
    expect(progress.skipped!.map((s) => [s.kind, s.key]).sort()).toEqual(k1Objects.map((key) => ['key-unavailable', key]).sort());
    expect(progress.skipped!.every((s) => s.message.includes('k1'))).toBe(true);
    expect(await restoredValues(target)).toEqual(values(HALF, 2 * HALF));

    const run = await coldstoreVerify(dir, storage(withoutK1));
    expect(run.code).toBe(1);
    expect(run.report.ok).toBe(false);
    expect(run.report.problems.map((p) => [p.kind, p.key]).sort()).toEqual(k1Objects.map((key) => ['key-unavailable', key]).sort());
    expect(run.report.problems.every((p) => p.message.includes('k1'))).toBe(true);
  }, 120_000);

  it('a flipped byte in one bundle: verify finds it not-authentic, a skipping restore skips exactly it', async () => {
    const victim = bundles.find((b) => keyOf(b) === 'k2')!;
    const tampered = Buffer.from(victim.body);
    tampered[Math.floor(tampered.length / 2)]! ^= 0x01;
    const client = s3Client();
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: victim.key, Body: tampered, Metadata: victim.metadata }));
    try {
      const run = await coldstoreVerify(dir, storage(keyring));
      expect(run.code).toBe(1);
      expect(run.report.problems.map((p) => [p.kind, p.key])).toEqual([['not-authentic', victim.key]]);
      expect(run.report.problems[0]!.message).toContain('k2');

      const { target, progress } = await restore(keyring, 'skip', 'FINISHED');
      expect(progress.skipped!.map((s) => [s.kind, s.key])).toEqual([['not-authentic', victim.key]]);
      const lost = values(Number(victim.metadata['coldstore-range-start']), Number(victim.metadata['coldstore-range-end']) + 1);
      expect(progress.records).toBe(2 * HALF - lost.length);
      expect(await restoredValues(target)).toEqual(values(0, 2 * HALF).filter((v) => !lost.includes(v)));
    } finally {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: victim.key, Body: victim.body, Metadata: victim.metadata }));
    }
  }, 120_000);
});
