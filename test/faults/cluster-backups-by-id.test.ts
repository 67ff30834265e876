/**
 * Backups by id in cluster mode (issue 14): one cut across the tasks of every worker, kept
 * by the leader. The leader is killed (-9) right after it accepted `POST /backups/{id}`,
 * several times; each backup then completes under the next leader or fails with a reason,
 * never stays in progress, and every completed one passes verify (no hole in its manifest).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { KafkaProducer } from '../../runtime/kafka/producer.js';
import { bootstrap, createTopic } from '../helpers/kafka.js';
import { s3Settings } from '../helpers/s3.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { Cluster, type ClusterMember } from './cluster-kit.js';
import { sleep, summary } from './fault-kit.js';

const PARTITIONS = 6;
const ROUNDS = Number(process.env['COLDSTORE_CLUSTER_BACKUP_ROUNDS'] ?? 3);

async function leaderOf(cluster: Cluster): Promise<ClusterMember | undefined> {
  for (const m of cluster.running()) {
    const res = await fetch(`${m.worker.url}/metrics`).catch(() => undefined);
    if (res && /^coldstore_cluster_leader(\{[^}]*\})? 1$/m.test(await res.text())) return m;
  }
  return undefined;
}

describe('cluster mode: backups by id across workers, the leader killed mid-backup', () => {
  const cluster = new Cluster(tmpDir('faults-cluster-bid'), uniqueName('fclbid').toLowerCase());
  let producer: KafkaProducer | undefined;
  let producing = false;
  afterAll(async () => {
    producing = false;
    await cluster.killAll();
    await producer?.disconnect();
  });

  it(`takes backups with tasks on every worker; ${ROUNDS} leaders killed right after accepting one: each completes or fails cleanly, completed ones verify`, async () => {
    const topic = uniqueName('fclbid');
    const label = uniqueName('fclbid').toLowerCase();
    await createTopic(topic, PARTITIONS);
    for (const name of ['w1', 'w2', 'w3']) await cluster.add(name);
    await Promise.all(cluster.members.map((m) => m.worker.start()));
    const created = await cluster.api('POST', '/connectors', {
      name: 'backup',
      config: {
        'connector.class': 'BackupSink',
        topics: topic,
        'tasks.max': '6',
        'backup.label': label,
        'bundle.max.age.ms': '30000',
        'gzip.level': '1',
        ...s3Settings(),
      },
    });
    expect(created.status).toBe(201);
    await cluster.untilRunning('backup', 6, 60_000);

    producer = new KafkaProducer({ bootstrapServers: bootstrap(), extra: {} }, 'faults-cluster-bid-producer');
    await producer.connect();
    producing = true;
    let sent = 0;
    const production = (async () => {
      while (producing) {
        await Promise.all(
          Array.from({ length: PARTITIONS }, (_, p) => producer!.send({ topic, partition: p, key: Buffer.from(`k${sent}`), value: Buffer.from(`v${sent++}`) })),
        );
        await sleep(20);
      }
    })();

    const outcome = async (id: number) =>
      waitFor(
        `backup ${id} settled`,
        async () => {
          const reply = await cluster.api('GET', `/backups/${id}`);
          return reply.status === 200 && reply.body.status !== 'IN_PROGRESS' ? reply.body : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 500 },
      );

    // A backup on a healthy cluster: the cut spans the tasks of all three workers (bundles
    // stay open 30 s, so it completes only because every task was asked to flush).
    await sleep(1_000);
    const first = await cluster.api('POST', '/backups/1');
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    const firstDone = await outcome(1);
    expect(firstDone.status, firstDone.failureReason).toBe('COMPLETED');
    expect(firstDone.partitions).toHaveLength(PARTITIONS);
    const firstVerify = await cluster.api('POST', '/backups/1/verify');
    expect(firstVerify.body.ok, JSON.stringify(firstVerify.body)).toBe(true);

    const results: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const id = round + 2;
      const leader = await waitFor('a leader', () => leaderOf(cluster), { timeoutMs: 60_000 });
      const other = cluster.running().find((m) => m !== leader)!;
      const accepted = await other.worker.api('POST', `/backups/${id}`);
      await leader.worker.kill('SIGKILL');
      if (accepted.status !== 202) {
        results.push(`${id}: refused ${accepted.status}`);
      } else {
        const settled = await outcome(id);
        results.push(`${id}: ${settled.status}${settled.failureReason ? ` (${settled.failureReason})` : ''}`);
        if (settled.status === 'COMPLETED') {
          const verified = await cluster.api('POST', `/backups/${id}/verify`);
          expect(verified.body.ok, JSON.stringify(verified.body)).toBe(true);
        } else {
          expect(settled.status).toBe('FAILED');
          expect(settled.failureReason).toBeTruthy();
        }
      }
      await leader.worker.start();
      await cluster.untilRunning('backup', 6, 60_000);
    }
    producing = false;
    await production;
    summary('cluster-backups-by-id', { rounds: ROUNDS, outcomes: results.join('; ') });
    expect(results.filter((r) => r.includes('COMPLETED')).length, results.join('; ')).toBeGreaterThan(0);
    const listed = await cluster.api('GET', '/backups');
    expect(listed.body.every((b: { status: string }) => b.status !== 'IN_PROGRESS')).toBe(true);
  });
});
