/**
 * Cluster mode refuses a setup that would lose or mix up state, at start and before it
 * writes anything: storage topics that are not compacted or keep time/size retention, a
 * config topic with several partitions, a group.id that other consumers use, workers of one
 * group with different storage topics, a config topic that belongs to another cluster.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import KafkaLib from '@confluentinc/kafka-javascript';
import { afterAll, describe, expect, it } from 'vitest';
import { KafkaAdmin } from '../../runtime/kafka/admin.js';
import { clusterWorkerConfig } from '../helpers/cluster-config.js';
import { bootstrap, createTopic } from '../helpers/kafka.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { freePort, WorkerProcess } from '../helpers/worker-process.js';

const admin = () => new KafkaAdmin({ bootstrapServers: bootstrap(), extra: {} }, 'coldstore-test-cluster-bad-input');

describe('cluster mode: bad setups are refused at start, nothing written', () => {
  const dir = tmpDir('cluster-bad-input');
  const running: WorkerProcess[] = [];
  let n = 0;
  afterAll(async () => {
    await Promise.all(running.map((w) => w.kill('SIGKILL')));
  });

  const worker = async (group: string, extra: Record<string, unknown> = {}, id = `w${++n}`) => {
    mkdirSync(join(dir, id));
    return new WorkerProcess(join(dir, id), await freePort(), clusterWorkerConfig(group, id, extra));
  };

  /** Starts a worker that must refuse: it exits non-zero, and its last words are returned. */
  const refused = async (w: WorkerProcess): Promise<string> => {
    expect(await w.startOrDie([], {})).toBe('died');
    expect(await w.exited()).toBe(1);
    return readFileSync(w.logPath, 'utf8');
  };

  const topicState = async (topics: string[]) => {
    const a = admin();
    try {
      return await Promise.all(
        topics.map(async (t) => {
          const described = await a.describeTopic(t);
          if (!described) return `${t}: missing`;
          const ends = await a.endOffsets(t, described.partitions);
          return `${t}: ${[...ends.values()].reduce((x, y) => x + y, 0n)} records`;
        }),
      );
    } finally {
      a.disconnect();
    }
  };

  it('a config topic that is not compacted, a status topic with retention, a config topic with 3 partitions: each named, nothing created', async () => {
    const group = uniqueName('badcl').toLowerCase();
    await createTopic(`${group}-configs`, 1, { 'cleanup.policy': 'delete' });
    await createTopic(`${group}-status`, 2, { 'cleanup.policy': 'compact,delete', 'retention.ms': '3600000' });
    const log = await refused(await worker(group));
    expect(log).toContain('CLUSTER_SETUP_INVALID');
    expect(log).toContain(`config.storage.topic ${group}-configs is not compacted (cleanup.policy=delete)`);
    expect(log).toContain(`status.storage.topic ${group}-status has cleanup.policy=compact,delete`);
    expect(log).toContain('nothing was written');
    // The missing offsets topic was not created, the bad ones hold nothing.
    expect(await topicState([`${group}-configs`, `${group}-offsets`, `${group}-status`])).toEqual([
      `${group}-configs: 0 records`,
      `${group}-offsets: missing`,
      `${group}-status: 0 records`,
    ]);

    const other = uniqueName('badcl').toLowerCase();
    await createTopic(`${other}-configs`, 3, { 'cleanup.policy': 'compact' });
    const log2 = await refused(await worker(other));
    expect(log2).toContain(`config.storage.topic ${other}-configs has 3 partitions; it must have exactly 1`);
    expect(await topicState([`${other}-offsets`, `${other}-status`])).toEqual([`${other}-offsets: missing`, `${other}-status: missing`]);
  }, 120_000);

  it('a group.id that a non-coldstore consumer group uses is refused', async () => {
    const group = uniqueName('badgrp').toLowerCase();
    const topic = uniqueName('badgrp-t');
    await createTopic(topic, 1);
    const consumer = new KafkaLib.KafkaConsumer({ 'bootstrap.servers': bootstrap(), 'group.id': group, 'client.id': 'some-application' } as never, {});
    await new Promise<void>((resolve, reject) => consumer.connect({ timeout: 30_000 }, (err) => (err ? reject(err) : resolve())));
    consumer.subscribe([topic]);
    const polling = setInterval(() => consumer.consume(1, () => undefined), 200);
    try {
      const a = admin();
      await waitFor('the application consumer in its group', async () => (await a.groupMembers(group)).length > 0);
      a.disconnect();
      const log = await refused(await worker(group));
      expect(log).toContain(`group.id ${group} is in use by consumers that are not coldstore workers (some-application)`);
      expect(await topicState([`${group}-configs`])).toEqual([`${group}-configs: missing`]);
    } finally {
      clearInterval(polling);
      await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
    }
  }, 120_000);

  it('a worker joining with other storage topics, or with a config topic of another cluster, is refused', async () => {
    const group = uniqueName('mixed').toLowerCase();
    const first = await worker(group);
    await first.start();
    running.push(first);
    const stray = await worker(group, { 'status.storage.topic': `${group}-other-status` });
    const log = await refused(stray);
    expect(log).toContain(`of group ${group} use other storage topics`);
    expect(await topicState([`${group}-other-status`])).toEqual([`${group}-other-status: missing`]);

    // Another group pointed at this cluster's config topic.
    const thief = await worker(uniqueName('thief').toLowerCase(), {
      'config.storage.topic': `${group}-configs`,
      'offset.storage.topic': `${group}-offsets`,
      'status.storage.topic': `${group}-status`,
    });
    const log2 = await refused(thief);
    expect(log2).toContain(`config.storage.topic ${group}-configs belongs to a cluster with groupId=${group}`);
    // The first worker is unaffected.
    expect((await first.api('GET', '/connectors')).status).toBe(200);
  }, 120_000);
});
