/**
 * A backup by id of an idle transactional topic in cluster mode (found by the nemesis): the
 * cut ends after the last commit or abort marker, the tasks' committed offset stops after
 * the last record, and the leader saw committed offsets only, so the backup stayed in
 * progress until a new record came (or backups.timeout.ms failed it). The leader now asks
 * Kafka whether any committed record lies between (KafkaCluster.committedRecordBetween).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KafkaAdmin } from '../../runtime/kafka/admin.js';
import { KafkaProducer } from '../../runtime/kafka/producer.js';
import { clusterWorkerConfig } from '../helpers/cluster-config.js';
import { bootstrap, createTopic } from '../helpers/kafka.js';
import { s3Settings } from '../helpers/s3.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { freePort, WorkerProcess } from '../helpers/worker-process.js';

/** One partition: records 0-2 committed (marker 3), records 4-6 aborted (marker 7). */
async function writeTransactions(topic: string): Promise<void> {
  const producer = new KafkaProducer({ bootstrapServers: bootstrap(), extra: {} }, `markers-${topic}`, { 'transactional.id': `markers-${topic}` });
  await producer.connect();
  try {
    await producer.initTransactions();
    for (const commit of [true, false]) {
      await producer.beginTransaction();
      await producer.sendAll([0, 1, 2].map((i) => ({ topic, partition: 0, key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}-${commit}`) })));
      if (commit) await producer.commitTransaction();
      else await producer.abortTransaction();
    }
  } finally {
    await producer.disconnect();
  }
}

describe('backups by id of a transactional topic whose log ends in markers', () => {
  const workers: WorkerProcess[] = [];
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill('SIGKILL')));
  });

  it('committedRecordBetween tells records from markers and aborted records', async () => {
    const topic = uniqueName('markers');
    await createTopic(topic, 1);
    await writeTransactions(topic);
    const admin = new KafkaAdmin({ bootstrapServers: bootstrap(), extra: {} }, 'markers-admin');
    try {
      const tp = { topic, partition: 0 };
      expect((await admin.partitionBounds([tp]))[0]!.end).toBe(8n);
      expect(await admin.committedRecordBetween(tp, 0n, 8n)).toBe(true);
      expect(await admin.committedRecordBetween(tp, 2n, 8n)).toBe(true);
      expect(await admin.committedRecordBetween(tp, 3n, 8n), 'a commit marker, aborted records and an abort marker').toBe(false);
      expect(await admin.committedRecordBetween(tp, 0n, 0n)).toBe(false);
    } finally {
      admin.disconnect();
    }
  });

  it('cluster mode: a backup by id of an idle transactional topic completes and verifies', async () => {
    const topic = uniqueName('markers');
    const label = uniqueName('markers')
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '');
    await createTopic(topic, 1);
    await writeTransactions(topic);
    const dir = tmpDir('backup-by-id-markers');
    mkdirSync(join(dir, 'w1'));
    const worker = new WorkerProcess(join(dir, 'w1'), await freePort(), clusterWorkerConfig(uniqueName('markers').toLowerCase(), 'w1'));
    workers.push(worker);
    await worker.start();
    const config = { 'connector.class': 'BackupSink', topics: topic, 'backup.label': label, 'bundle.max.age.ms': '500', ...s3Settings() };
    expect((await worker.api('POST', '/connectors', { name: 'backup', config })).status).toBe(201);
    await waitFor(
      'the last record durable (offset 3 committed)',
      async () => ((await worker.api('GET', '/connectors/backup/offsets')).body?.offsets ?? []).some((e: any) => e.offset?.kafka_offset === 3),
      { timeoutMs: 60_000, intervalMs: 500 },
    );

    expect((await worker.api('POST', '/backups/1')).status).toBe(202);
    const done = await waitFor(
      'backup 1 settled',
      async () => {
        const got = await worker.api('GET', '/backups/1');
        return got.body?.status !== 'IN_PROGRESS' ? got.body : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(done.status, done.failureReason).toBe('COMPLETED');
    expect(done.partitions).toEqual([expect.objectContaining({ topic, partition: 0, endOffset: 8, durableOffset: 8, status: 'COMPLETED' })]);
    const verified = await worker.api('POST', '/backups/1/verify');
    expect(verified.body.ok, JSON.stringify(verified.body)).toBe(true);
  });
});
