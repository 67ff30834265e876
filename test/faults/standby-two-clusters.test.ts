/**
 * A warm standby across two real Kafka clusters (docs/standby.md): the primary is a broker
 * of this test's own, written with transactions (some aborted, so its offsets have holes)
 * and backed up by a BackupSink in one worker process; the standby is the stack's broker,
 * kept current by a follow-mode RestoreSource in another worker process that never talks
 * to the primary. An application group reads part of the primary. Then the primary dies
 * for real (its broker and its backup worker killed with -9): the standby must hold every
 * record the primary had committed, once, in order, under the same topic name, and the
 * group must resume there exactly where it stopped on the primary.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaAdmin } from '../../runtime/kafka/admin.js';
import { KafkaProducer } from '../../runtime/kafka/producer.js';
import { readPartitions } from '../helpers/broker-records.js';
import { consumeInGroup } from '../helpers/group-consumer.js';
import { bootstrap } from '../helpers/kafka.js';
import { s3Settings } from '../helpers/s3.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { freePort, WorkerProcess } from '../helpers/worker-process.js';
import { committedOffsets, logTail, sleep, summary, tasksOf, until } from './fault-kit.js';
import { PrivateKafka, readTextRecords, type TextRecord } from './private-kafka.js';

const PARTITIONS = 3;
const TRANSACTIONS = 120;

interface FollowedFigures {
  restored_offset: number | null;
  lag_offsets: number;
}

describe('a warm standby on a second Kafka cluster, fed only from the bucket, when the primary dies', () => {
  const id = uniqueName('s2c')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
  const topic = `orders-${id}`;
  const group = `billing-${id}`;
  const storage = { ...s3Settings(), 'backup.label': `s2c-${id}` };
  let primary: PrivateKafka;
  let backup: WorkerProcess;
  let follower: WorkerProcess;

  async function worker(name: string, brokers: string, config: Record<string, string>): Promise<WorkerProcess> {
    const process = new WorkerProcess(tmpDir(`faults-standby-${name}`), await freePort(), { 'bootstrap.servers': brokers, 'offset.flush.interval.ms': 300 });
    const file = join(process.dir, `${name}.json`);
    writeFileSync(file, JSON.stringify({ name, config }));
    await process.start([file]);
    return process;
  }

  /** Transactions of 2–7 records per partition on the primary; every fifth one aborted. */
  async function produceTransactions(): Promise<{ committed: number; aborted: number }> {
    const producer = new KafkaProducer({ bootstrapServers: primary.bootstrap, extra: {} }, `s2c-app-${id}`, { 'transactional.id': `s2c-app-${id}` });
    await producer.connect();
    await producer.initTransactions();
    const counts = { committed: 0, aborted: 0 };
    for (let t = 0; t < TRANSACTIONS; t++) {
      await producer.beginTransaction();
      const abort = t % 5 === 4;
      const sends = Array.from({ length: PARTITIONS }, (_, p) =>
        Array.from({ length: 2 + ((t + p) % 6) }, (_, i) =>
          producer.send({ topic, partition: p, key: Buffer.from(`k${t}-${i}`), value: Buffer.from(`v-${t}-${p}-${i}${abort ? '-aborted' : ''}`) }),
        ),
      ).flat();
      await Promise.all(sends);
      if (abort) await producer.abortTransaction();
      else await producer.commitTransaction();
      counts[abort ? 'aborted' : 'committed'] += sends.length;
      await sleep(40);
    }
    await producer.disconnect();
    return counts;
  }

  beforeAll(async () => {
    primary = await PrivateKafka.create(tmpDir('faults-standby-primary-kafka'));
    await primary.start();
    const admin = new KafkaAdmin({ bootstrapServers: primary.bootstrap, extra: {} }, 's2c-admin');
    await admin.createTopic(topic, PARTITIONS);
    admin.disconnect();
    backup = await worker('backup', primary.bootstrap, {
      'connector.class': 'BackupSink',
      ...storage,
      topics: topic,
      'bundle.max.records': '100',
      'bundle.max.age.ms': '500',
      groups: group,
      'metadata.snapshot.interval.ms': '1000',
    });
    follower = await worker('standby', bootstrap(), {
      'connector.class': 'RestoreSource',
      ...storage,
      'restore.mode': 'follow',
      topics: topic,
      'transaction.boundary': 'poll',
      'poll.max.records': '50',
      'tasks.max': '2',
      groups: group,
      'follow.interval.ms': '250',
      'follow.groups.interval.ms': '1000',
    });
  }, 240_000);

  afterAll(async () => {
    await backup?.kill('SIGKILL');
    await follower?.kill('SIGKILL');
    await primary?.stop();
  });

  async function followed(): Promise<Record<string, FollowedFigures>> {
    const tasks = await tasksOf(follower, 'standby');
    const stuck = tasks.find((t) => t.state !== 'RUNNING');
    if (stuck) throw new Error(`follow task ${stuck.id} is ${stuck.state}: ${stuck.trace ?? logTail(follower)}`);
    return Object.assign({}, ...tasks.map((t) => t.progress?.['partitions'] ?? {})) as Record<string, FollowedFigures>;
  }

  it('holds every committed primary record once, in order, and the group resumes exactly where it stopped', async () => {
    const started = Date.now();
    const produced = await produceTransactions();
    // The application reads part of the primary and commits; the backup snapshots the group.
    const read = await consumeInGroup(group, topic, Math.floor(produced.committed / 2), 60_000, primary.bootstrap);
    const onPrimary = await (async () => {
      const admin = new KafkaAdmin({ bootstrapServers: primary.bootstrap, extra: {} }, 's2c-admin-groups');
      try {
        return await admin.groupOffsets(group);
      } finally {
        admin.disconnect();
      }
    })();
    const primaryRecords = await readTextRecords(primary.bootstrap, topic, PARTITIONS);
    expect(primaryRecords).toHaveLength(produced.committed);
    const lastOffset = (p: number) => Number(primaryRecords.filter((r) => r.partition === p).pop()!.offset);
    const backupEnd = await Promise.race([backup.exited(), sleep(10).then(() => 'running')]);
    if (backupEnd !== 'running') throw new Error(`the backup worker ended (${String(backupEnd)}): ${logTail(backup)}`);
    await until(
      'the backup holding every committed record',
      async () => {
        const committed = await committedOffsets(backup, 'backup');
        return [0, 1, 2].every((p) => (committed.get(`${topic}/${p}`) ?? 0) > lastOffset(p)) ? true : undefined;
      },
      60_000,
    );
    // One snapshot interval more, so the group's offsets are in the bucket; then the primary dies.
    await sleep(2_500);
    await backup.kill('SIGKILL');
    await primary.stop('SIGKILL');

    let figures: Record<string, FollowedFigures> = {};
    await until(
      'the standby caught up with the backup',
      async () => {
        figures = await followed();
        return [0, 1, 2].every((p) => figures[`${topic}/${p}`]?.restored_offset === lastOffset(p) && figures[`${topic}/${p}`]?.lag_offsets === 0)
          ? true
          : undefined;
      },
      90_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last figures ${JSON.stringify(figures)}`);
    });
    const standby = await readPartitions([0, 1, 2].map((partition) => ({ topic, partition })));
    const valuesOf = (records: readonly { partition: number; value: unknown }[], p: number) =>
      records.filter((r) => r.partition === p).map((r) => String(r.value instanceof Buffer ? r.value.toString() : r.value));
    for (const p of [0, 1, 2]) expect(valuesOf(standby, p)).toEqual(valuesOf(primaryRecords, p));
    expect(standby.some((r) => r.value!.toString().endsWith('-aborted'))).toBe(false);

    // The application fails over to the standby: its group reads exactly what it had not read.
    const unreadOf = (p: number): TextRecord[] => {
      const at = onPrimary.find((o) => o.topic === topic && o.partition === p)?.offset ?? 0n;
      return primaryRecords.filter((r) => r.partition === p && r.offset >= at);
    };
    const unread = [0, 1, 2].flatMap(unreadOf);
    await until(
      'the group synced onto the standby',
      async () => {
        const figures = (await tasksOf(follower, 'standby')).map((t) => t.progress?.['follow'] as { groups?: { groups?: Record<string, unknown> } });
        return figures.some((f) => f.groups?.groups?.[group] !== undefined) ? true : undefined;
      },
      30_000,
    );
    expect((await follower.api('PUT', '/connectors/standby/stop')).status).toBeLessThan(300);
    await until('the follower stopped', async () => ((await tasksOf(follower, 'standby')).length === 0 ? true : undefined), 30_000);
    const resumed = await consumeInGroup(group, topic, unread.length, 30_000);
    for (const p of [0, 1, 2]) {
      expect(resumed.filter((m) => m.partition === p).map((m) => m.value!.toString())).toEqual(valuesOf(unreadOf(p), p));
    }
    summary('standby-two-clusters', {
      'committed records': produced.committed,
      'aborted records': produced.aborted,
      'read by the group on the primary': read.length,
      'standby records': standby.length,
      'read by the group after failover': resumed.length,
      seconds: Math.round((Date.now() - started) / 1000),
    });
  }, 300_000);
});
