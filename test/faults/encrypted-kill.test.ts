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
import { keyringSettings, newKeyMaterial, objectOpener, writeKeyring } from '../helpers/encryption.js';
import { bootstrap, createTopic, produceLines } from '../helpers/kafka.js';
import { createAlias, createKmsKey, KMS_TEST_CREDENTIALS, KMS_TEST_REGION, kmsEndpoint, uniqueAliasName } from '../helpers/kms.js';
import { createTestApp } from '../helpers/test-app.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { freePort, WorkerProcess } from '../helpers/worker-process.js';
import { killedEncryptedBackup, notEncryptedAsExpected, type KilledBackup } from './encrypted-kit.js';
import { localBundles, summary } from './fault-kit.js';
import { killRestoreThenFinish, readRestored, untilBackupCommitted } from './restore-kill-kit.js';

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
      await untilBackupCommitted(app.herder, source, PARTITIONS, PER_PARTITION, 'encrypted backup complete');
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

    const { kinds, recordsAtLastStart: restoredBefore } = await killRestoreThenFinish(worker, file, {
      name: 'restore',
      kills: RESTORE_KILLS,
      total: TOTAL,
      transactional: true,
      progressWeight: 2,
    });
    const { values, lost, duplicated } = await readRestored(target, PARTITIONS, expectedValues);
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
