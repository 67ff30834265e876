/**
 * An unreachable KMS is retried like an unreachable S3 (docs/operations.md, "Encryption
 * keys"): a moto KMS server of the test's own is frozen with SIGSTOP for 30 s while
 * a BackupSink encrypting with one of its keys runs and its topic is written. No bundle
 * is stored while it is frozen (each needs a data key), the task never turns FAILED, and
 * after SIGCONT every record is backed up exactly once, byte for byte, decrypted.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bootstrap, createTopic, produceSteadily } from '../helpers/kafka.js';
import { createKmsKey, kmsClient } from '../helpers/kms.js';
import { backupConfig, eventsBucket, kmsEncryption, proveDecrypted, untilStored } from '../helpers/kms-backup.js';
import { listKeys, s3Client } from '../helpers/s3.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { freePort, WorkerProcess } from '../helpers/worker-process.js';
import { PrivateKms } from './encrypted-kit.js';
import { logTail, metricTotal, sleep, startWorker, summary, tasksOf } from './fault-kit.js';

/** Longer than the KMS client's three 5 s attempts: the uploader sees a transient error and retries. */
const PAUSE_MS = 30_000;
const PER_PARTITION = 300;

describe('BackupSink with AWS KMS: the KMS server frozen (SIGSTOP) mid-backup', () => {
  const dir = tmpDir('faults-kms-outage');
  let kms: PrivateKms | undefined;
  let worker: WorkerProcess | undefined;
  afterAll(async () => {
    await worker?.kill('SIGKILL');
    await kms?.stop();
  });

  it(`retries through a ${PAUSE_MS / 1000} s freeze, never FAILED, then every record exactly once`, async () => {
    const started = Date.now();
    kms = await PrivateKms.start(dir);
    const key = await createKmsKey('kms-outage', kmsClient(kms.endpoint));
    const topic = uniqueName('fkmsout');
    const label = uniqueName('fkmsout').toLowerCase();
    const bucket = eventsBucket(label);
    await createTopic(topic, 2);
    worker = new WorkerProcess(dir, await freePort(), { 'bootstrap.servers': bootstrap(), 'offset.flush.interval.ms': 300 });
    const file = join(dir, 'backup.json');
    writeFileSync(
      file,
      JSON.stringify({ name: 'backup', config: { ...backupConfig(topic, label, kmsEncryption(key.arn, { endpoint: kms.endpoint })), 'tasks.max': '2' } }),
    );
    expect(await startWorker(worker, [file]), logTail(worker)).toBe('started');
    await produceSteadily(topic, 2, 0, 100);
    await untilStored(bucket, 200);

    const client = s3Client();
    kms.pause();
    const pausedAt = Date.now();
    // Written during the freeze, in small steps: each closed bundle needs a data key from the frozen server.
    const production = produceSteadily(topic, 2, 100, 250, 10, 1000);
    await sleep(3_000);
    const objectsEarlyInFreeze = (await listKeys(client, bucket)).length;
    const statesSeen = new Set<string>();
    while (Date.now() - pausedAt < PAUSE_MS) {
      for (const task of await tasksOf(worker, 'backup')) {
        statesSeen.add(task.state);
        expect(task.state, `task ${task.id} while KMS is frozen: ${task.trace}`).not.toBe('FAILED');
      }
      await sleep(500);
    }
    const objectsAtFreezeEnd = (await listKeys(client, bucket)).length;
    kms.resume();
    await production;
    await produceSteadily(topic, 2, 250, PER_PARTITION);

    await untilStored(bucket, 2 * PER_PARTITION, 120_000);
    const tasks = await tasksOf(worker, 'backup');
    const transientErrors = await metricTotal(worker, 'coldstore_backup_errors_total', { kind: 'transient' });
    expect(tasks.map((t) => t.state)).toEqual(['RUNNING', 'RUNNING']);
    expect(await worker.kill('SIGTERM')).toBe(0);
    const proof = await proveDecrypted(bucket, topic, [PER_PARTITION, PER_PARTITION], kms.endpoint);
    summary('kms-outage', {
      runs: 1,
      faults: 1,
      'freeze seconds': Math.round(PAUSE_MS / 1000),
      'task states during the freeze': [...statesSeen].join('/'),
      'bundles stored during the freeze': objectsAtFreezeEnd - objectsEarlyInFreeze,
      'transient errors retried': transientErrors,
      bundles: proof.bundles,
      'records checked': 2 * PER_PARTITION,
      lost: proof.lost,
      duplicated: proof.duplicated,
      mismatched: proof.mismatched,
      seconds: Math.round((Date.now() - started) / 1000),
    });
    expect(statesSeen).toEqual(new Set(['RUNNING']));
    // The SDK gave up on the frozen server and coldstore retried, rather than one request outwaiting the freeze.
    expect(transientErrors).toBeGreaterThanOrEqual(1);
    // The freeze was felt: no bundle could be encrypted while the server was stopped.
    expect(objectsAtFreezeEnd).toBe(objectsEarlyInFreeze);
    expect(proof.problems).toEqual([]);
    expect(proof.lost).toBe(0);
    expect(proof.duplicated).toBe(0);
    expect(proof.records).toBe(2 * PER_PARTITION);
    expect(new Set(proof.stored.map((o) => o.metadata['coldstore-enc-key-id']))).toEqual(new Set([key.arn]));
  });
});
