import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../app/app.js';
import { KafkaAdmin } from '../../runtime/kafka/admin.js';
import { readPartitions, type BrokerRecord } from '../helpers/broker-records.js';
import { bootstrap, consumeAll, createTopic } from '../helpers/kafka.js';
import { createKindTopics, kindTopicNames } from '../helpers/record-kinds.js';
import { fetchAll, listKeys, s3Client, s3Settings } from '../helpers/s3.js';
import { createTestApp } from '../helpers/test-app.js';
import { uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

/** What must survive a restore: everything but the offset (compaction holes and transaction markers do not come back). */
function content(r: BrokerRecord) {
  return {
    partition: r.partition,
    timestamp: String(r.timestamp),
    key: r.key === null ? null : r.key.toString('hex'),
    value: r.value === null ? null : r.value.toString('hex'),
    headers: r.headers.map((h) => [h.key, h.value === null ? null : h.value.toString('hex')]),
  };
}

function byPartition(records: BrokerRecord[]): Map<number, BrokerRecord[]> {
  const out = new Map<number, BrokerRecord[]>();
  for (const r of records) out.set(r.partition, [...(out.get(r.partition) ?? []), r]);
  return out;
}

describe('RestoreSource into Kafka (real broker, S3Proxy)', () => {
  let app: App;
  const admin = () => new KafkaAdmin({ bootstrapServers: bootstrap(), extra: {} }, 'restore-test-admin');
  const label = uniqueName('rs')
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '');
  const topics = kindTopicNames();
  const group = uniqueName('orders-app');
  /** The group had read these offsets (next to read) when the backup was taken; 30 lies in a compaction hole. */
  const groupAt = { kinds0: 10, kinds1: 13, compacted: 30 };
  const source = new Map<string, BrokerRecord[]>();
  const storage = { ...s3Settings(), 'backup.label': label };

  async function partitionsOf(topic: string): Promise<number> {
    const a = admin();
    try {
      return (await a.describeTopic(topic))!.partitions;
    } finally {
      a.disconnect();
    }
  }

  /** The whole topic as the broker holds it: counts from kcat, records from a plain read_committed consumer. */
  async function readTopic(topic: string): Promise<BrokerRecord[]> {
    const counts = new Map<number, number>();
    for (const m of consumeAll(topic, 100_000)) counts.set(m.partition, (counts.get(m.partition) ?? 0) + 1);
    return readPartitions([...counts].map(([partition, count]) => ({ topic, partition, count })));
  }

  async function restore(config: Record<string, string>) {
    const name = uniqueName('restore');
    const full = { 'connector.class': 'RestoreSource', ...storage, ...config };
    await app.herder.putConfig(name, full, true);
    const status = await waitFor(
      `${name} FINISHED`,
      () => {
        const s = app.herder.status(name);
        const failed = s.tasks.find((t) => t.state === 'FAILED') ?? (s.connector.state === 'FAILED' ? s.connector : undefined);
        if (failed) throw new Error(`restore failed: ${failed.trace}`);
        return s.tasks.length > 0 && s.tasks.every((t) => t.state === 'FINISHED') ? s : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    ).catch((err: Error) => {
      throw new Error(`${err.message}; status: ${JSON.stringify(app.herder.status(name))}`);
    });
    return { name, status, config: full };
  }

  beforeAll(async () => {
    await createKindTopics(topics);
    for (const topic of Object.values(topics)) source.set(topic, await readTopic(topic));
    const a = admin();
    await a.commitGroupOffsets(group, [
      { topic: topics.kinds, partition: 0, offset: BigInt(groupAt.kinds0) },
      { topic: topics.kinds, partition: 1, offset: BigInt(groupAt.kinds1) },
      { topic: topics.compacted, partition: 0, offset: BigInt(groupAt.compacted) },
    ]);
    a.disconnect();
    expect(source.get(topics.compacted)!.some((r) => r.offset === BigInt(groupAt.compacted))).toBe(false);

    ({ app } = await createTestApp({ 'offset.flush.interval.ms': 200 }));
    await app.herder.putConfig(
      uniqueName('backup'),
      {
        'connector.class': 'BackupSink',
        topics: Object.values(topics).join(','),
        groups: group,
        'bundle.max.records': '7',
        'bundle.max.age.ms': '300',
        'gzip.level': '1',
        ...storage,
      },
      true,
    );
    const total = [...source.values()].reduce((n, r) => n + r.length, 0);
    await waitFor(
      'every record, the topic metadata and a group snapshot backed up',
      async () => {
        const objects = await fetchAll(s3Client(), `coldstore-${label}-events`).catch(() => []);
        const records = objects.reduce((n, o) => n + Number(o.metadata['coldstore-records'] ?? 0), 0);
        const metadata = await listKeys(s3Client(), `coldstore-${label}-events`, '~coldstore/').catch(() => []);
        const topicsKnown = metadata.filter((k) => k.startsWith('~coldstore/topics/')).length;
        const snapshots = metadata.filter((k) => k.startsWith('~coldstore/group-offsets/')).length;
        return records >= total && topicsKnown === 4 && snapshots >= 1;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
  }, 240_000);

  afterAll(async () => {
    await app?.stop();
  });

  it('restores every record kind into renamed topics, faithfully, and creates them with the backed-up partitions and configs', async () => {
    const renamed = Object.fromEntries(Object.values(topics).map((t) => [t, `${t}-restored`]));
    const {
      name,
      status,
      config: restoreConfig,
    } = await restore({
      topics: Object.values(topics).join(','),
      'topic.rename': Object.entries(renamed)
        .map(([from, to]) => `${from}:${to}`)
        .join(','),
      groups: group,
      'tasks.max': '2',
      // Copied configs would let the broker compact the restored topic again before the comparison.
      'topic.create.configs': 'segment.ms=604800000',
    });
    const progress = status.tasks.map((t) => t.progress as { records: number; objects: number; bad_objects: number; phase: string });
    const expectedTotal = [...source.values()].reduce((n, r) => n + r.length, 0);
    expect(progress.reduce((n, p) => n + p.records, 0)).toBe(expectedTotal);
    expect(progress.every((p) => p.phase === 'done' && p.bad_objects === 0 && p.objects > 0)).toBe(true);

    for (const [from, to] of Object.entries(renamed)) {
      const original = source.get(from)!;
      const restored = await readPartitions(
        Array.from({ length: await partitionsOf(to) }, (_, partition) => ({
          topic: to,
          partition,
          count: original.filter((r) => r.partition === partition).length,
        })),
      );
      expect(restored.map(content), `${from} → ${to}`).toEqual(original.map(content));
      // CREATE_TIME stays; a LOG_APPEND_TIME record keeps its original time, now as its create time.
      expect(restored.every((r) => r.timestampType === 'CREATE_TIME')).toBe(true);
    }
    const a = admin();
    try {
      expect((await a.describeTopic(renamed[topics.kinds]!, { configs: true }))?.partitions).toBe(2);
      expect((await a.describeTopic(renamed[topics.compacted]!, { configs: true }))?.configs).toMatchObject({
        'cleanup.policy': 'compact',
        'min.cleanable.dirty.ratio': '0.01',
        'segment.ms': '604800000',
      });
      expect((await a.describeTopic(renamed[topics.appendTime]!, { configs: true }))?.configs?.['message.timestamp.type']).toBeUndefined();

      // The group resumes, on the restored topics, at the record it would have read next.
      const committed = await a.groupOffsets(group);
      const at = (topic: string, partition: number) => committed.find((o) => o.topic === topic && o.partition === partition)?.offset;
      for (const [from, partition, next] of [
        [topics.kinds, 0, groupAt.kinds0],
        [topics.kinds, 1, groupAt.kinds1],
        [topics.compacted, 0, groupAt.compacted],
      ] as const) {
        const to = renamed[from]!;
        const offset = at(to, partition);
        expect(offset, `${to}/${partition} committed`).toBeDefined();
        const restored = (await readPartitions([{ topic: to, partition }])).filter((r) => r.partition === partition);
        const original = source.get(from)!.filter((r) => r.partition === partition);
        const expectedNext = original.find((r) => r.offset >= BigInt(next))!;
        const actualNext = restored.find((r) => r.offset >= offset!)!;
        expect(content(actualNext)).toEqual(content(expectedNext));
        expect(restored.filter((r) => r.offset < offset!).map(content)).toEqual(original.filter((r) => r.offset < BigInt(next)).map(content));
      }

      // The offsets phase alone: the group was moved meanwhile; running only that phase puts it back, restoring no record again.
      const restoredOffsets = committed.filter((o) => o.topic.endsWith('-restored'));
      await a.commitGroupOffsets(
        group,
        restoredOffsets.map((o) => ({ ...o, offset: 0n })),
      );
      await app.herder.putConfig(name, { ...restoreConfig, 'restore.phases': 'offsets' }, false);
      await waitFor(
        'offsets phase re-committed the group',
        async () => {
          const now = await a.groupOffsets(group);
          return restoredOffsets.every((o) => now.some((n) => n.topic === o.topic && n.partition === o.partition && n.offset === o.offset));
        },
        { timeoutMs: 30_000, intervalMs: 300 },
      ).catch((err: Error) => {
        throw new Error(`${err.message}: ${JSON.stringify(app.herder.status(name))}`);
      });
      const again = await waitFor('offsets-only run FINISHED', () => {
        const s = app.herder.status(name);
        return s.tasks.length > 0 && s.tasks.every((t) => t.state === 'FINISHED') ? s : undefined;
      });
      // No bundle was read again; the record counts are the whole job's.
      expect(again.tasks.reduce((n, t) => n + (t.progress as { objects: number }).objects, 0)).toBe(0);
      expect(again.tasks.reduce((n, t) => n + (t.progress as { records: number }).records, 0)).toBe(expectedTotal);
      for (const to of Object.values(renamed)) {
        const original = source.get(Object.keys(renamed).find((k) => renamed[k] === to)!)!;
        expect((await readPartitions([{ topic: to, partition: 0 }])).filter((r) => r.partition === 0)).toHaveLength(
          original.filter((r) => r.partition === 0).length,
        );
      }
    } finally {
      a.disconnect();
    }
  }, 120_000);

  it('restores to a timestamp exactly the records at or before it, and to an offset exactly those up to it', async () => {
    const cut = 1_700_000_000_000 + 20;
    const target = `${topics.kinds}-pit`;
    await restore({ topics: topics.kinds, 'topic.rename': `${topics.kinds}:${target}`, 'restore.until.timestamp': new Date(cut).toISOString() });
    const original = source.get(topics.kinds)!.filter((r) => r.timestamp <= BigInt(cut));
    expect(original.length).toBe(21);
    const restored = await readPartitions([0, 1].map((partition) => ({ topic: target, partition })));
    expect(restored.map(content)).toEqual(original.map(content));

    const upTo = `${topics.compacted}-upto`;
    const last = source.get(topics.compacted)![10]!.offset;
    await restore({ topics: topics.compacted, 'topic.rename': `${topics.compacted}:${upTo}`, 'restore.until.offsets': `${topics.compacted}:0:${last}` });
    const restoredUpTo = await readPartitions([{ topic: upTo, partition: 0 }]);
    expect(restoredUpTo.map(content)).toEqual(source.get(topics.compacted)!.slice(0, 11).map(content));
  }, 120_000);

  it('re-partitions by key like Kafka does when the target has more partitions', async () => {
    const target = `${topics.kinds}-five`;
    await createTopic(target, 5);
    await restore({ topics: topics.kinds, 'topic.rename': `${topics.kinds}:${target}` });
    const original = source.get(topics.kinds)!;
    const restored = await readPartitions([0, 1, 2, 3, 4].map((partition) => ({ topic: target, partition })));
    expect(restored).toHaveLength(original.length);
    expect(new Set(restored.map((r) => r.partition)).size).toBeGreaterThan(2);

    // Kafka's own choice, made by an independent client (kcat with librdkafka's Java-compatible murmur2 partitioner).
    const control = uniqueName('control');
    await createTopic(control, 5);
    const textKeys = original.filter((r) => r.key !== null && /^key-\d+$/.test(r.key.toString())).map((r) => r.key!.toString());
    execFileSync('kcat', ['-P', '-b', bootstrap(), '-t', control, '-K', ':', '-X', 'topic.partitioner=murmur2_random'], {
      input: `${textKeys.map((k) => `${k}:x`).join('\n')}\n`,
    });
    const kafkaChoice = new Map(consumeAll(control, textKeys.length).map((m) => [m.key!, m.partition]));
    expect(kafkaChoice.size).toBe(textKeys.length);
    for (const r of restored.filter((x) => x.key !== null && /^key-\d+$/.test(x.key.toString()))) {
      expect(r.partition, `key ${r.key!.toString()}`).toBe(kafkaChoice.get(r.key!.toString()));
    }
    // Records without a key keep their partition modulo the new count; per key, order is kept.
    for (const r of restored.filter((x) => x.key === null)) {
      expect(original.some((o) => o.key === null && o.partition % 5 === r.partition && o.value?.equals(r.value ?? Buffer.alloc(0)))).toBe(true);
    }
    // Timestamps identify the records here; within each target partition they keep the backup's order.
    const rank = (t: bigint) => original.findIndex((o) => o.timestamp === t) + (original.find((o) => o.timestamp === t)!.partition === 0 ? 0 : 1000);
    for (const [partition, records] of byPartition(restored)) {
      for (const from of [0, 1]) {
        const fromThere = records.filter((r) => original.find((o) => o.timestamp === r.timestamp)!.partition === from).map((r) => rank(r.timestamp));
        expect(fromThere, `partition ${partition}, records from ${from}`).toEqual([...fromThere].sort((x, y) => x - y));
      }
    }
  }, 120_000);
});
