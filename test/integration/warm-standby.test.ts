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
    await waitFor(
      'the group offsets synced onto the standby',
      async () => {
        const synced = (await admin.groupOffsets(group)).filter((o) => o.topic === standbyOf(primary));
        return synced.length === onPrimary.filter((o) => o.topic === primary).length ? synced : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );
    for (const at of onPrimary.filter((o) => o.topic === primary)) {
      const standbyAt = (await admin.groupOffsets(group)).find((o) => o.topic === standbyOf(primary) && o.partition === at.partition)!;
      // The first standby record the group would read, and the first record it had not read on the primary.
      const next = standbyRecords.find((r) => r.partition === at.partition && r.offset >= standbyAt.offset);
      const unread = primaryRecords.filter((r) => r.partition === at.partition && r.offset >= at.offset);
      const readFromStandby = standbyRecords.filter((r) => r.partition === at.partition && r.offset >= standbyAt.offset);
      // Nothing skipped: every unread record is still ahead of the group on the standby; at most 100 repeated.
      expect(values(readFromStandby).slice(-unread.length)).toEqual(values(unread));
      expect(readFromStandby.length - unread.length).toBeLessThan(100);
      if (unread.length > 0) expect(next).toBeDefined();
    }
  }, 120_000);

  it('stops (failover) with nothing half-written: every standby partition is stable', async () => {
    await worker.app.herder.setTarget(follow, 'STOPPED');
    await waitFor('the follow connector stopped', () => followStatus().connector.state === 'STOPPED', { timeoutMs: 30_000 });
    const partitions = [0, 1, 2].map((partition) => ({ topic: standbyOf(primary), partition }));
    const stable = await withFreshAdmin((fresh) => fresh.partitionBounds(partitions));
    const ends = await withFreshAdmin((fresh) => fresh.endOffsets(standbyOf(primary), 3));
    // The last stable offset equals the log end: no transaction is left open.
    for (const b of stable) expect(b.end).toBe(ends.get(b.partition));
  }, 60_000);
});
