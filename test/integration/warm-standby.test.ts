import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaAdmin } from '../../runtime/kafka/admin.js';
import { readPartitions, type BrokerRecord } from '../helpers/broker-records.js';
import { consumeInGroup } from '../helpers/group-consumer.js';
import { bootstrap, createTopic, produceSteadily } from '../helpers/kafka.js';
import { s3Settings } from '../helpers/s3.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

/**
 * A warm standby on the real stack: a primary topic backed up by BackupSink, a follow-mode
 * RestoreSource keeping renamed "standby" topics current while records flow, a topic and
 * partitions that appear mid-way, and a consumer group that fails over to the standby.
 */
describe('RestoreSource restore.mode=follow (warm standby)', () => {
  let worker: TestApp;
  const admin = new KafkaAdmin({ bootstrapServers: bootstrap(), extra: {} }, 'standby-test-admin');
  /** A fresh client for offsets: a long-lived one's metadata does not know partitions added meanwhile. */
  async function withFreshAdmin<T>(work: (fresh: KafkaAdmin) => Promise<T>): Promise<T> {
    const fresh = new KafkaAdmin({ bootstrapServers: bootstrap(), extra: {} }, 'standby-test-offsets');
    try {
      return await work(fresh);
    } finally {
      fresh.disconnect();
    }
  }
  const id = uniqueName('ws')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
  const primary = `prim-${id}`;
  const later = `prim-${id}-later`;
  const standbyOf = (topic: string) => topic.replace(/^prim-/, 'stby-');
  const group = `app-${id}`;
  const storage = { ...s3Settings(), 'backup.label': `ws-${id}` };
  const backup = `backup-${id}`;
  const follow = `follow-${id}`;

  const values = (records: readonly BrokerRecord[]) => records.map((r) => r.value!.toString());
  const partitionOf = (records: readonly BrokerRecord[], p: number) => records.filter((r) => r.partition === p);

  async function readAll(topic: string, partitions: number): Promise<BrokerRecord[]> {
    return readPartitions(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })));
  }

  beforeAll(async () => {
    worker = await createTestApp({}, { captureLogs: true });
    await createTopic(primary, 2);
    await worker.app.herder.putConfig(
      backup,
      {
        'connector.class': 'BackupSink',
        ...storage,
        'topics.regex': `prim-${id}.*`,
        'bundle.max.records': '150',
        'bundle.max.age.ms': '1000',
        groups: group,
        'metadata.snapshot.interval.ms': '1000',
        'consumer.override.topic.metadata.refresh.interval.ms': '1000',
      },
      true,
    );
    await worker.app.herder.putConfig(
      follow,
      {
        'connector.class': 'RestoreSource',
        ...storage,
        'restore.mode': 'follow',
        'topics.regex': `prim-${id}.*`,
        'topic.rename.regex': 'prim-(.*)',
        'topic.rename.replacement': 'stby-$1',
        'transaction.boundary': 'poll',
        'poll.max.records': '120',
        'tasks.max': '2',
        groups: group,
        'follow.interval.ms': '300',
        'follow.discovery.interval.ms': '1000',
        'follow.groups.interval.ms': '1000',
      },
      true,
    );
  }, 120_000);

  afterAll(async () => {
    if (process.env['DEBUG_STANDBY']) console.log(worker.logs.filter((l) => /"level":(40|50)|task started|restart/.test(l)).join('\n'));
    await worker?.app.stop();
    admin.disconnect();
  });

  const followStatus = () => worker.app.herder.status(follow);

  function failedTrace(): string | undefined {
    const s = followStatus();
    return [s.connector, ...s.tasks].find((t) => t.state === 'FAILED')?.trace;
  }

  it('keeps the standby current while records flow, picking up a new topic and new partitions', async () => {
    await produceSteadily(primary, 2, 0, 600, 30, 20);
    // Records land on the standby while the primary is still written: follow mode does not wait for an end.
    await waitFor('records on the standby', async () => (await admin.endOffsets(standbyOf(primary), 2)).get(0)! > 0n, { timeoutMs: 60_000 });
    await createTopic(later, 1);
    await produceSteadily(later, 1, 0, 200, 40, 20);
    await admin.createPartitions(primary, 3);
    await produceSteadily(primary, 3, 600, 900, 30, 20);
    // The application reads part of the primary and commits; the backup snapshots its offsets.
    const read = await consumeInGroup(group, primary, 1000);
    expect(read.length).toBeGreaterThanOrEqual(1000);

    // The primary "dies": nothing more is produced; wait until the backup holds everything.
    const expected = await readAll(primary, 3);
    const expectedLater = await readAll(later, 1);
    expect(expected.length).toBe(2 * 900 + 300);
    await waitFor(
      'the standby holding every backed-up record',
      async () => {
        const trace = failedTrace();
        if (trace) throw new Error(`follow task failed: ${trace}`);
        const ends = await withFreshAdmin((fresh) =>
          fresh.partitionBounds([0, 1, 2].map((partition) => ({ topic: standbyOf(primary), partition })).concat({ topic: standbyOf(later), partition: 0 })),
        );
        return ends.every((b) => b.end > 0n) && (await readAll(standbyOf(primary), 3)).length >= expected.length;
      },
      { timeoutMs: 90_000, intervalMs: 1_000 },
    ).catch((err: Error) => {
      const problems = worker.logs.filter((l) => /"level":(40|50)/.test(l)).slice(-20);
      throw new Error(`${err.message}\nstatus: ${JSON.stringify(followStatus())}\nwarnings: ${problems.join('\n')}`);
    });
    const standby = await readAll(standbyOf(primary), 3);
    for (const p of [0, 1, 2]) expect(values(partitionOf(standby, p))).toEqual(values(partitionOf(expected, p)));
    await waitFor('the later topic on the standby', async () => (await readAll(standbyOf(later), 1)).length >= expectedLater.length, { timeoutMs: 60_000 });
    expect(values(await readAll(standbyOf(later), 1))).toEqual(values(expectedLater));
    const described = await admin.describeTopic(standbyOf(primary));
    expect(described?.partitions).toBe(3);

    const metrics = (await worker.call('GET', '/metrics')).text;
    expect(metrics).toMatch(new RegExp(`coldstore_restore_follow_lag_offsets\\{[^}]*topic="${primary}"[^}]*\\} 0`));
    expect(metrics).toMatch(new RegExp(`coldstore_restore_follow_newest_record_timestamp_seconds\\{[^}]*topic="${primary}"`));
    const progress = followStatus().tasks.map(
      (t) => t.progress as { phase: string; partitions: Record<string, { lag_offsets: number; newest_age_ms: number | null }> },
    );
    expect(progress.every((p) => p.phase === 'following')).toBe(true);
    const partitions = Object.assign({}, ...progress.map((p) => p.partitions)) as Record<string, { lag_offsets: number; newest_age_ms: number | null }>;
    expect(Object.keys(partitions).sort()).toEqual([`${later}/0`, `${primary}/0`, `${primary}/1`, `${primary}/2`]);
    for (const figures of Object.values(partitions)) {
      expect(figures.lag_offsets).toBe(0);
      expect(figures.newest_age_ms, JSON.stringify(partitions)).not.toBeNull();
    }
  }, 240_000);

  it('syncs the group so it resumes on the standby without skipping a record', async () => {
    const onPrimary = await admin.groupOffsets(group);
    expect(onPrimary.length).toBeGreaterThan(0);
    const primaryRecords = await readAll(primary, 3);
    const standbyRecords = await readAll(standbyOf(primary), 3);
    /** Per partition, whether the group's standby offset points exactly at the first record it had not read on the primary. */
    const resumesExactly = async () => {
      const synced = await admin.groupOffsets(group);
      return onPrimary
        .filter((o) => o.topic === primary)
        .every((at) => {
          const standbyAt = synced.find((o) => o.topic === standbyOf(primary) && o.partition === at.partition);
          if (!standbyAt) return false;
          const unread = primaryRecords.filter((r) => r.partition === at.partition && r.offset >= at.offset);
          const readFromStandby = standbyRecords.filter((r) => r.partition === at.partition && r.offset >= standbyAt.offset);
          return JSON.stringify(values(readFromStandby)) === JSON.stringify(values(unread));
        });
    };
    // The sync runs on the newest snapshot, which follows the group's commit within a snapshot interval.
    await waitFor('the group offsets synced onto the standby, exactly', resumesExactly, { timeoutMs: 60_000, intervalMs: 1_000 });
    const progress = followStatus().tasks.map((t) => (t.progress as { follow: { groups?: { synced_at?: string } } }).follow);
    expect(progress.every((f) => f.groups?.synced_at !== undefined)).toBe(true);
  }, 120_000);

  it('stops (failover) with nothing half-written: every standby partition is stable', async () => {
    await worker.app.herder.setTarget(follow, 'STOPPED');
    await waitFor('the follow connector stopped', () => followStatus().connector.state === 'STOPPED', { timeoutMs: 30_000 });
    const partitions = [0, 1, 2].map((partition) => ({ topic: standbyOf(primary), partition }));
    const stable = await withFreshAdmin((fresh) => fresh.partitionBounds(partitions));
    const ends = await withFreshAdmin((fresh) => fresh.endOffsets(standbyOf(primary), 3));
    // The last stable offset equals the log end: no transaction is left open.
    for (const b of stable) expect(b.end).toBe(ends.get(b.partition));

    // The application fails over: its group reads on the standby exactly what it had not read on the primary.
    const primaryRecords = await readAll(primary, 3);
    const onPrimary = (await admin.groupOffsets(group)).filter((o) => o.topic === primary);
    // A partition the group never committed on it reads from the start, on either cluster.
    const unread = primaryRecords.filter((r) => r.offset >= (onPrimary.find((o) => o.partition === r.partition)?.offset ?? 0n));
    const resumed = await consumeInGroup(group, standbyOf(primary), unread.length, 30_000);
    for (const p of [0, 1, 2]) {
      expect(resumed.filter((m) => m.partition === p).map((m) => m.value!.toString())).toEqual(values(partitionOf(unread, p)));
    }
  }, 90_000);

  it('fails back: the standby, now written as the primary, is backed up under a new label and followed into fresh topics', async () => {
    const standbyTopic = standbyOf(primary);
    await produceSteadily(standbyTopic, 3, 900, 1000, 50, 10);
    const back = { ...storage, 'backup.label': `ws-${id}-back` };
    await worker.app.herder.putConfig(
      `${backup}-back`,
      { 'connector.class': 'BackupSink', ...back, topics: standbyTopic, 'bundle.max.records': '200', 'bundle.max.age.ms': '1000' },
      true,
    );
    const failback = `back-${id}`;
    await worker.app.herder.putConfig(
      `${follow}-back`,
      {
        'connector.class': 'RestoreSource',
        ...back,
        'restore.mode': 'follow',
        topics: standbyTopic,
        'topic.rename': `${standbyTopic}:${failback}`,
        'transaction.boundary': 'poll',
        'follow.interval.ms': '300',
      },
      true,
    );
    const expected = await readAll(standbyTopic, 3);
    await waitFor('the fresh primary topics holding the standby', async () => (await readAll(failback, 3)).length >= expected.length, {
      timeoutMs: 90_000,
      intervalMs: 1_000,
    });
    const restored = await readAll(failback, 3);
    for (const p of [0, 1, 2]) expect(values(partitionOf(restored, p))).toEqual(values(partitionOf(expected, p)));
  }, 150_000);
});
