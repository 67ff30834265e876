/**
 * kill -9 with client-side encryption on (docs/delivery-guarantees.md, "With encryption
 * on"): a rebuilt bundle's stored bytes differ from the first upload's (fresh data key and
 * nonce), so exactly once rests on the sealed plaintext digest. A BackupSink encrypting
 * with a keyring, then with KMS through an alias, is killed at random moments and at the
 * after-upload and before-commit failpoints while its topic is written; the decrypted
 * bundles hold every offset exactly once, byte for byte, and every stored bundle is
 * encrypted. A transactional RestoreSource from an encrypted backup, killed mid-restore,
 * leaves each record exactly once for read_committed readers.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readPartitions } from '../helpers/broker-records.js';
import { keyringSettings, newKeyMaterial, objectOpener, writeKeyring } from '../helpers/encryption.js';
import { bootstrap, createTopic, produceLines } from '../helpers/kafka.js';
import { createAlias, createKmsKey, KMS_TEST_CREDENTIALS, KMS_TEST_REGION, kmsEndpoint, uniqueAliasName } from '../helpers/kms.js';
import { createTestApp } from '../helpers/test-app.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { freePort, WorkerProcess } from '../helpers/worker-process.js';
import { killedEncryptedBackup, notEncryptedAsExpected, type KilledBackup } from './encrypted-kit.js';
import { localBundles, logTail, pick, randomInt, settledTasks, sleep, startWorker, summary, tasksOf, waitFinished } from './fault-kit.js';

const BACKUP_KILLS = 10;
const RESTORE_KILLS = 6;

function expectExactlyOnce(test: string, backup: KilledBackup, started: number): void {
  const { report } = backup;
  summary(test, {
    runs: BACKUP_KILLS + 1,
    faults: BACKUP_KILLS,
    'kills(random/startup/after-upload/before-commit)': backup.kills,
    bundles: report.bundles,
    'rebuilt bundles found stored (last run)': backup.foundStored,
    'records checked': backup.source.length,
    lost: report.lost,
    duplicated: report.duplicated,
    mismatched: report.mismatched,
    seconds: Math.round((Date.now() - started) / 1000),
  });
  console.info(`[faults] ${test} sequence: ${backup.sequence.join(' ')}`);
  expect(report.problems).toEqual([]);
  expect(report.lost).toBe(0);
  expect(report.duplicated).toBe(0);
  expect(report.mismatched).toBe(0);
  expect(report.records).toBe(backup.source.length);
}

describe('BackupSink with encryption: kill -9 at random moments, every offset exactly once in the decrypted bundles', () => {
  it(`keyring: ${BACKUP_KILLS} SIGKILLs, zero lost or duplicated offsets, every bundle encrypted with the active key`, async () => {
    const started = Date.now();
    const dir = tmpDir('faults-enckill-keyring');
    const keyring = writeKeyring(dir, 'k2', { k1: newKeyMaterial(), k2: newKeyMaterial() });
    const backup = await killedEncryptedBackup(dir, BACKUP_KILLS, keyringSettings(keyring), objectOpener({ keyringFile: keyring }));
    expect(backup.stored.length).toBeGreaterThan(0);
    expect(notEncryptedAsExpected(backup.stored, 'keyring', 'k2')).toEqual([]);
    // The bucket holds ciphertext: no stored body reads as a bundle, no digest is visible.
    expect(backup.stored.filter((o) => o.body.subarray(0, 2).equals(Buffer.from([0x1f, 0x8b]))).map((o) => o.key)).toEqual([]);
    expect(backup.stored.filter((o) => 'coldstore-body-sha256' in o.metadata).map((o) => o.key)).toEqual([]);
    expectExactlyOnce('encrypted-kill/keyring', backup, started);
  });

  it(`aws-kms through an alias: ${BACKUP_KILLS} SIGKILLs, zero lost or duplicated offsets, every bundle names the key ARN`, async () => {
    const started = Date.now();
    const dir = tmpDir('faults-enckill-kms');
    const key = await createKmsKey('encrypted-kill');
    const alias = await createAlias(uniqueAliasName('encrypted-kill'), key.keyId);
    const kms = { endpoint: kmsEndpoint(), region: KMS_TEST_REGION, credentials: KMS_TEST_CREDENTIALS };
    const settings = {
      'encryption.provider': 'aws-kms',
      'encryption.kms.key.id': alias,
      'encryption.kms.endpoint': kms.endpoint,
      'encryption.kms.region': kms.region,
      'encryption.kms.access.key.id': kms.credentials.accessKeyId,
      'encryption.kms.secret.access.key': kms.credentials.secretAccessKey,
    };
    const backup = await killedEncryptedBackup(dir, BACKUP_KILLS, settings, objectOpener({ kms }));
    expect(backup.stored.length).toBeGreaterThan(0);
    expect(key.arn).not.toBe(alias);
    expect(notEncryptedAsExpected(backup.stored, 'aws-kms', key.arn)).toEqual([]);
    expectExactlyOnce('encrypted-kill/aws-kms', backup, started);
  });
});

describe('RestoreSource from an encrypted backup: kill -9 mid-restore, transactional', () => {
  const PARTITIONS = 3;
  const PER_PARTITION = 4000;
  const TOTAL = PARTITIONS * PER_PARTITION;
  const workers: WorkerProcess[] = [];
  afterAll(async () => {
    for (const w of workers) await w.kill('SIGKILL');
  });

  it(`every record exactly once, in order, for read_committed readers after ${RESTORE_KILLS} kills`, async () => {
    const started = Date.now();
    const dir = tmpDir('faults-enckill-restore');
    const root = join(dir, 'objects');
    const keyring = writeKeyring(dir, 'only', { only: newKeyMaterial() });
    const source = uniqueName('fencrestore');
    const label = uniqueName('fencrestore').toLowerCase();
    const target = `${source}-restored`;
    const expectedValues = (p: number) => Array.from({ length: PER_PARTITION }, (_, i) => `v-${p}-${i}`);
    await createTopic(source, PARTITIONS);
    for (let p = 0; p < PARTITIONS; p++)
      produceLines(
        source,
        p,
        expectedValues(p).map((v, i) => `k-${p}-${i}:${v}`),
      );
    const storage = { 'storage.type': 'local', 'local.root': root, 'backup.label': label };
    const { app } = await createTestApp({});
    try {
      const backup = { 'connector.class': 'BackupSink', topics: source, 'bundle.max.records': '150', 'bundle.max.age.ms': '300', 'gzip.level': '1' };
      await app.herder.putConfig('backup', { ...backup, ...storage, ...keyringSettings(keyring) }, true);
      await waitFor(
        'encrypted backup complete',
        () => {
          const positions = app.herder.committedOffsets().filter((o) => o.topic === source);
          return positions.length === PARTITIONS && positions.every((o) => o.offset === BigInt(PER_PARTITION));
        },
        { timeoutMs: 120_000, intervalMs: 300 },
      );
    } finally {
      await app.stop();
    }
    const bundles = localBundles(root, `coldstore-${label}-events`);
    expect(bundles.length).toBeGreaterThan(PARTITIONS);
    expect(notEncryptedAsExpected(bundles, 'keyring', 'only')).toEqual([]);

    const worker = new WorkerProcess(dir, await freePort(), { 'bootstrap.servers': bootstrap(), 'offset.flush.interval.ms': 200 });
    workers.push(worker);
    const file = join(dir, 'restore.json');
    const restore = {
      'connector.class': 'RestoreSource',
      topics: source,
      'topic.rename': `${source}:${target}`,
      'tasks.max': '2',
      'poll.max.records': '50',
      'fetch.max.in.flight': '2',
      'transaction.boundary': 'poll',
      // Reading needs no provider, only the keys: each object names the one it was written with.
      'encryption.keyring.file': keyring,
    };
    writeFileSync(file, JSON.stringify({ name: 'restore', config: { ...restore, ...storage } }));

    const kinds = { progress: 0, startup: 0, beforeCommit: 0, afterCommit: 0 };
    const sequence: string[] = [];
    for (let run = 0; run < RESTORE_KILLS; run++) {
      const how = pick(['progress', 'progress', 'startup', 'failpoint'] as const);
      if (how === 'failpoint') {
        const point = pick(['source.before-commit', 'source.after-commit'] as const);
        const nth = randomInt(1, 8);
        const outcome = await startWorker(worker, [file], { COLDSTORE_FAILPOINTS: `${point}@${nth}` });
        const died = outcome === 'died' || (await Promise.race([worker.exited().then(() => true), sleep(10_000).then(() => false)]));
        if (!died) await worker.kill('SIGKILL');
        kinds[point === 'source.before-commit' ? 'beforeCommit' : 'afterCommit']++;
        sequence.push(died ? `${point}@${nth}` : `${point}@${nth}-not-reached:SIGKILL`);
        continue;
      }
      expect(await startWorker(worker, [file]), logTail(worker)).toBe('started');
      if (how === 'startup') {
        const delay = randomInt(0, 300);
        await sleep(delay);
        sequence.push(`startup+${delay}ms`);
      } else {
        // A small, random number of records restored in this run, so the job outlasts the kills.
        const step = randomInt(1, Math.floor(TOTAL / (3 * RESTORE_KILLS)));
        const baseline = new Map<number, number>();
        const deadline = Date.now() + 10_000;
        for (;;) {
          const tasks = await tasksOf(worker, 'restore');
          if (tasks.length > 0 && tasks.every((t) => t.state === 'FINISHED')) throw new Error(`restore finished after ${run} kills: make the job larger`);
          const failed = tasks.find((t) => t.state === 'FAILED');
          if (failed) throw new Error(`restore task ${failed.id} FAILED: ${failed.trace}`);
          let progress = 0;
          for (const t of tasks) {
            if (Object.keys((t.progress?.['partitions'] as object | undefined) ?? {}).length === 0) continue;
            const records = Number(t.progress?.records) || 0;
            if (!baseline.has(t.id)) baseline.set(t.id, records);
            progress += records - baseline.get(t.id)!;
          }
          if (progress >= step || Date.now() > deadline) break;
          await sleep(50);
        }
        sequence.push(`progress+${step}`);
      }
      await worker.kill('SIGKILL');
      kinds[how]++;
    }
    console.info(`[faults] encrypted-kill/restore kill sequence: ${sequence.join(' ')}`);

    expect(await startWorker(worker, [file]), logTail(worker)).toBe('started');
    const atLastStart = await settledTasks(worker, 'restore');
    expect(
      atLastStart.every((t) => t.state === 'FINISHED'),
      'the restore finished before the last kill: make the job larger',
    ).toBe(false);
    const restoredBefore = atLastStart.reduce((n, t) => n + (Number(t.progress?.records) || 0), 0);
    const finished = await waitFinished(worker, 'restore', 240_000);
    expect(await worker.kill('SIGTERM')).toBe(0);
    expect(finished.reduce((n, t) => n + Number(t.progress?.records), 0)).toBe(TOTAL);

    const records = await readPartitions(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: target, partition })));
    const values = Array.from({ length: PARTITIONS }, (_, p) => records.filter((r) => r.partition === p).map((r) => r.value!.toString()));
    const lost = values.reduce((n, vs, p) => {
      const present = new Set(vs);
      return n + expectedValues(p).filter((v) => !present.has(v)).length;
    }, 0);
    const duplicated = values.reduce((n, vs) => n + vs.length - new Set(vs).size, 0);
    summary('encrypted-kill/restore-transactional', {
      runs: RESTORE_KILLS + 1,
      faults: RESTORE_KILLS,
      'kills(progress/startup/before-commit/after-commit)': `${kinds.progress}/${kinds.startup}/${kinds.beforeCommit}/${kinds.afterCommit}`,
      'encrypted bundles': bundles.length,
      'restored before the last run': `${restoredBefore}/${TOTAL}`,
      'records checked': TOTAL,
      lost,
      duplicated,
      seconds: Math.round((Date.now() - started) / 1000),
    });
    for (let p = 0; p < PARTITIONS; p++) expect(values[p], `partition ${p}`).toEqual(expectedValues(p));
    expect(duplicated).toBe(0);
    expect(lost).toBe(0);
  });
});
