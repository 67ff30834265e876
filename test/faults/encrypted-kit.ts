/**
 * What the encrypted fault tests share: a BackupSink killed with SIGKILL while its topic is
 * written, proven exactly once on the decrypted objects; a check that every stored bundle
 * is encrypted; and a moto KMS server of the test's own, to pause without touching the
 * stack's shared one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { KafkaProducer } from '../../runtime/kafka/producer.js';
import { readPartitions, type BrokerRecord } from '../helpers/broker-records.js';
import { bootstrap, createTopic } from '../helpers/kafka.js';
import { fetchAll, s3Client, s3Settings, type FetchedObject } from '../helpers/s3.js';
import { uniqueName } from '../helpers/tmp.js';
import { freePort, WorkerProcess } from '../helpers/worker-process.js';
import { kmsAnswers } from '../stack/kms.js';
import { KMS_SERVER_SCRIPT, MOTO_VENV } from '../stack/layout.js';
import {
  metricTotal,
  noKills,
  proveExactlyOnce,
  randomInt,
  recordDifferences,
  runThenKill,
  sleep,
  startWorker,
  untilBackedUp,
  type ExactlyOnceReport,
} from './fault-kit.js';

/** Opens raw objects to plaintext (test/helpers/encryption.ts objectOpener). */
export type Opener = (objects: readonly FetchedObject[]) => Promise<FetchedObject[]>;

/** Records with null, empty and binary keys and values, and headers, so "byte for byte" covers every kind. */
export function recordFor(topic: string, partition: number, i: number) {
  return {
    topic,
    partition,
    key: i % 17 === 0 ? null : i % 19 === 0 ? Buffer.alloc(0) : Buffer.from(`k-${partition}-${i}`),
    value: i % 23 === 0 ? null : i % 29 === 0 ? Buffer.alloc(0) : i % 3 === 0 ? Buffer.alloc(randomInt(1, 1500), i % 251) : Buffer.from(`v-${partition}-${i}`),
    headers:
      i % 5 === 0
        ? [
            { key: 'h', value: Buffer.from(`${i}`) },
            { key: 'h', value: null },
          ]
        : [],
  };
}

/** Which stored objects are not encrypted (no coldstore-enc), or encrypted with another provider or key than expected. */
export function notEncryptedAsExpected(objects: readonly FetchedObject[], provider: string, keyId: string): string[] {
  return objects
    .filter(
      (o) =>
        o.metadata['coldstore-enc'] !== 'aes-256-gcm-v1' || o.metadata['coldstore-enc-provider'] !== provider || o.metadata['coldstore-enc-key-id'] !== keyId,
    )
    .map((o) => `${o.key}: enc=${o.metadata['coldstore-enc']} provider=${o.metadata['coldstore-enc-provider']} key=${o.metadata['coldstore-enc-key-id']}`);
}

export interface KilledBackup {
  report: ExactlyOnceReport;
  /** The bundles as stored (ciphertext and visible metadata). */
  stored: FetchedObject[];
  source: BrokerRecord[];
  kills: string;
  sequence: string[];
  /** Bundles the clean last run rebuilt and found already stored with the same plaintext. */
  foundStored: number;
}

/**
 * A BackupSink with `encryption` settings into S3, its topic written all along, killed
 * `killCount` times (runThenKill: random moments, start, backup.after-upload and
 * sink.before-commit failpoints), then a clean run until every record is stored; the
 * proof reads the objects through `open`.
 */
export async function killedEncryptedBackup(dir: string, killCount: number, encryption: Record<string, string>, open: Opener): Promise<KilledBackup> {
  const partitions = 3;
  const topic = uniqueName('fenckill');
  const label = uniqueName('fenckill').toLowerCase();
  const bucket = `coldstore-${label}-events`;
  await createTopic(topic, partitions);
  const worker = new WorkerProcess(dir, await freePort(), { 'bootstrap.servers': bootstrap(), 'offset.flush.interval.ms': 300 });
  const connectorFile = join(dir, 'backup.json');
  const config = {
    'connector.class': 'BackupSink',
    topics: topic,
    'tasks.max': '2',
    'backup.label': label,
    'bundle.max.records': '80',
    'bundle.max.age.ms': '1500',
    'gzip.level': '1',
    ...s3Settings(),
    ...encryption,
  };
  writeFileSync(connectorFile, JSON.stringify({ name: 'backup', config }));
  const producer = new KafkaProducer({ bootstrapServers: bootstrap(), extra: {} }, `faults-${label}-producer`);
  await producer.connect();
  const produced = Array.from({ length: partitions }, () => 0);
  let producing = true;
  const production = (async () => {
    while (producing) {
      await Promise.all(produced.map((_, p) => Promise.all(Array.from({ length: 6 }, () => producer.send(recordFor(topic, p, produced[p]!++))))));
      await sleep(150);
    }
  })();
  try {
    const kills = noKills();
    const sequence: string[] = [];
    for (let run = 0; run < killCount; run++) sequence.push(await runThenKill(worker, [connectorFile], kills));
    producing = false;
    await production;
    expect(kills.random + kills.startup + kills.afterUpload + kills.beforeCommit).toBe(killCount);

    expect(await startWorker(worker, [connectorFile])).toBe('started');
    const total = produced.reduce((a, b) => a + b, 0);
    const source = await readPartitions(produced.map((count, partition) => ({ topic, partition, count })));
    expect(source).toHaveLength(total);
    const client = s3Client();
    await untilBackedUp(worker, client, bucket, total, 180_000);
    // Bundles this run rebuilt and found stored already: their plaintext digests were compared through the envelope.
    const foundStored = await metricTotal(worker, 'coldstore_backup_bundles_total', { result: 'existing' });
    expect(await worker.kill('SIGTERM')).toBe(0);

    const stored = await fetchAll(client, bucket);
    const report = proveExactlyOnce(topic, partitions, await open(stored), source, recordDifferences);
    return { report, stored, source, sequence, foundStored, kills: `${kills.random}/${kills.startup}/${kills.afterUpload}/${kills.beforeCommit}` };
  } finally {
    producing = false;
    await production.catch(() => undefined);
    await worker.kill('SIGKILL');
    await producer.disconnect();
  }
}

/**
 * moto's KMS server (with the stack's key-state rules, test/stack/kms-server.py) on a free
 * port of its own, so a test can SIGSTOP it; the shared server on 39100 is never paused.
 */
export class PrivateKms {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(dir: string): Promise<PrivateKms> {
    const port = await freePort();
    const log = createWriteStream(join(dir, 'kms.log'), { flags: 'a' });
    // The venv's real path, as test/stack/kms.ts launches it: `.stack` may be a link into another checkout.
    const python = join(realpathSync(MOTO_VENV), 'bin', 'python');
    const child = spawn(python, [KMS_SERVER_SCRIPT, '--host', '127.0.0.1', '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    const kms = new PrivateKms(child, port);
    const deadline = Date.now() + 60_000;
    while (!(await kmsAnswers(port))) {
      if (child.exitCode !== null) throw new Error(`the private KMS server exited with ${child.exitCode}; see ${join(dir, 'kms.log')}`);
      if (Date.now() > deadline) throw new Error(`the private KMS server on ${port} did not answer within 60 s`);
      await sleep(300);
    }
    return kms;
  }

  pause(): void {
    this.child.kill('SIGSTOP');
  }

  resume(): void {
    this.child.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const ended = new Promise<void>((done) => this.child.once('exit', () => done()));
    this.child.kill('SIGCONT');
    this.child.kill('SIGKILL');
    await ended;
  }
}
