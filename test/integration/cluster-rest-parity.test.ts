/**
 * Kafka Connect REST parity in cluster mode (docs/rest-api.md): initial_state written with
 * the config in the config topic, PATCH forwarded to the leader and merged there, active
 * topics in the status topic (reset through any worker), plugin config definitions.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterWorkerConfig } from '../helpers/cluster-config.js';
import { createTopic, produceSteadily } from '../helpers/kafka.js';
import { fetchAll, recordCount, s3Client, s3Settings } from '../helpers/s3.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { freePort, WorkerProcess } from '../helpers/worker-process.js';

describe('cluster mode: Kafka Connect REST parity', () => {
  const dir = tmpDir('cluster-parity');
  const workers: WorkerProcess[] = [];
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill('SIGKILL')));
  });

  it('initial_state, PATCH and active topics through every worker, the same answers everywhere', async () => {
    const group = uniqueName('parity').toLowerCase();
    const topic = uniqueName('cp');
    const label = uniqueName('cp')
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '');
    await createTopic(topic, 2);
    for (const id of ['p1', 'p2']) {
      mkdirSync(join(dir, id));
      workers.push(new WorkerProcess(join(dir, id), await freePort(), clusterWorkerConfig(group, id)));
    }
    await Promise.all(workers.map((w) => w.start()));
    const [w1, w2] = workers as [WorkerProcess, WorkerProcess];
    const everywhere = async (path: string) => Promise.all(workers.map(async (w) => (await w.api('GET', path)).body));
    const config = { 'connector.class': 'BackupSink', topics: topic, 'tasks.max': '2', 'backup.label': label, 'bundle.max.age.ms': '500', ...s3Settings() };

    // initial_state: both writes go through each worker, so one of them is forwarded to the leader.
    expect(
      (await w1.api('POST', '/connectors', { name: 'parked', config: { ...config, 'backup.label': `${label}-x` }, initial_state: 'STOPPED' })).status,
    ).toBe(201);
    expect((await w2.api('POST', '/connectors', { name: 'backup', config, initial_state: 'PAUSED' })).status).toBe(201);
    const bad = await w2.api('POST', '/connectors', { name: 'other', config, initial_state: 'RESUMED' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/initial_state must be one of RUNNING, PAUSED, STOPPED/);
    await waitFor(
      'backup PAUSED with two PAUSED tasks and parked STOPPED without tasks, on both workers',
      async () => {
        const answers = [...(await everywhere('/connectors/backup/status')), ...(await everywhere('/connectors/parked/status'))];
        const [b1, b2, p1, p2] = answers;
        const paused = (s: any) => s?.connector?.state === 'PAUSED' && s.tasks.length === 2 && s.tasks.every((t: { state: string }) => t.state === 'PAUSED');
        const stopped = (s: any) => s?.connector?.state === 'STOPPED' && s.tasks.length === 0;
        return paused(b1) && paused(b2) && stopped(p1) && stopped(p2);
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect((await w1.api('GET', '/connectors/parked/tasks')).body).toEqual([]);

    // PATCH through each worker: the second merges over the first, wherever the leader is.
    const p1 = await w1.api('PATCH', '/connectors/backup/config', { 'tasks.max': '1', 'bundle.max.age.ms': null });
    expect(p1.status).toBe(200);
    expect(p1.body.config['tasks.max']).toBe('1');
    expect(p1.body.config['s3.secret.access.key']).toBe('[hidden]');
    const p2 = await w2.api('PATCH', '/connectors/backup/config', { 'bundle.max.records': '5' });
    expect(p2.status).toBe(200);
    // Reads come from each worker's copy of the config topic: the other one catches up a moment later.
    await waitFor('both patches shown by both workers', async () => {
      const shown = await everywhere('/connectors/backup/config');
      return shown.every((c) => c['tasks.max'] === '1' && c['bundle.max.records'] === '5' && c.topics === topic && !('bundle.max.age.ms' in c));
    });
    const refused = await w1.api('PATCH', '/connectors/backup/config', { 'tasks.max': '0', topics: null });
    expect(refused.status).toBe(400);
    expect(refused.body.fields.map((f: { field: string }) => f.field).sort()).toEqual(['tasks.max', 'topics']);
    expect((await w2.api('PATCH', '/connectors/absent/config', { 'tasks.max': '1' })).status).toBe(404);

    // Resumed, the patched connector (its secret kept by the merges) backs records up, and both workers list the topic.
    expect((await w1.api('PUT', '/connectors/backup/resume')).status).toBe(202);
    await produceSteadily(topic, 2, 0, 20);
    await waitFor('40 records in S3', async () => recordCount(await fetchAll(s3Client(), `coldstore-${label}-events`).catch(() => [])) === 40, {
      timeoutMs: 60_000,
      intervalMs: 500,
    });
    await waitFor('the topic listed on both workers', async () => {
      const answers = await everywhere('/connectors/backup/topics');
      return answers.every((a) => JSON.stringify(a) === JSON.stringify({ backup: { topics: [topic] } }));
    });
    expect(await everywhere('/connectors/parked/topics')).toEqual([{ parked: { topics: [] } }, { parked: { topics: [] } }]);

    // Reset: refused while RUNNING, through either worker; once STOPPED, gone on both.
    for (const w of workers) {
      const res = await w.api('PUT', '/connectors/backup/topics/reset');
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('TOPICS_RESET_NOT_STOPPED');
    }
    expect((await w2.api('PUT', '/connectors/backup/stop')).status).toBe(202);
    await waitFor('backup STOPPED on both workers', async () => (await everywhere('/connectors/backup/status')).every((s) => s.connector.state === 'STOPPED'));
    // Tasks on the other worker may still be stopping: the reset is refused (409) until they have.
    await waitFor('the reset accepted once the tasks stopped', async () => {
      const res = await w1.api('PUT', '/connectors/backup/topics/reset');
      if (res.status !== 202) expect([res.status, res.body.code]).toEqual([409, 'TOPICS_RESET_NOT_STOPPED']);
      return res.status === 202;
    });
    await waitFor('no topic listed on either worker', async () => (await everywhere('/connectors/backup/topics')).every((a) => a.backup.topics.length === 0));
    expect((await w2.api('GET', '/connectors/absent/topics')).status).toBe(404);

    // Plugin definitions are answered by any worker itself.
    const definitions = await everywhere('/connector-plugins/BackupSink/config');
    expect(definitions[0]).toEqual(definitions[1]);
    expect(definitions[0].map((d: { name: string }) => d.name)).toEqual(expect.arrayContaining(['bundle.max.records', 's3.secret.access.key']));

    // Deleting forgets the active topics with the connector.
    expect((await w1.api('PUT', '/connectors/backup/resume')).status).toBe(202);
    await produceSteadily(topic, 2, 20, 25);
    await waitFor('the topic listed again', async () => (await everywhere('/connectors/backup/topics')).every((a) => a.backup.topics.length === 1));
    expect((await w2.api('DELETE', '/connectors/backup')).status).toBe(204);
    expect((await w1.api('POST', '/connectors', { name: 'backup', config, initial_state: 'STOPPED' })).status).toBe(201);
    await waitFor('the re-created connector without topics on both workers', async () => {
      const answers = await everywhere('/connectors/backup/topics');
      return answers.every((a) => a?.backup?.topics?.length === 0);
    });
  }, 240_000);

  it('a topics reset waits for every task to have stopped: a paused worker still running one gets a 409 until it stopped it', async () => {
    const group = uniqueName('reset').toLowerCase();
    const topic = uniqueName('rs');
    const label = uniqueName('rs')
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '');
    await createTopic(topic, 3);
    const pair: WorkerProcess[] = [];
    for (const id of ['r1', 'r2']) {
      mkdirSync(join(dir, id));
      // A session long enough that the paused worker stays a member (and keeps its tasks) while the test acts.
      pair.push(
        new WorkerProcess(join(dir, id), await freePort(), clusterWorkerConfig(group, id, { 'session.timeout.ms': 60_000, 'heartbeat.interval.ms': 3_000 })),
      );
    }
    workers.push(...pair);
    await Promise.all(pair.map((w) => w.start()));
    const config = { 'connector.class': 'BackupSink', topics: topic, 'tasks.max': '3', 'backup.label': label, 'bundle.max.age.ms': '500', ...s3Settings() };
    expect((await pair[0]!.api('POST', '/connectors', { name: 'backup', config })).status).toBe(201);
    // Three tasks and the connector over two workers: each runs at least one task.
    await waitFor(
      'three RUNNING tasks on both workers',
      async () => {
        const s = (await pair[0]!.api('GET', '/connectors/backup/status')).body;
        return (
          s?.tasks?.length === 3 &&
          s.tasks.every((t: { state: string }) => t.state === 'RUNNING') &&
          new Set(s.tasks.map((t: { worker_id: string }) => t.worker_id)).size === 2
        );
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    await produceSteadily(topic, 3, 0, 5);
    await waitFor('the topic listed', async () => (await pair[0]!.api('GET', '/connectors/backup/topics')).body.backup.topics.length === 1);
    const isLeader = async (w: WorkerProcess) => /^coldstore_cluster_leader(\{[^}]*\})? 1$/m.test(await (await fetch(`${w.url}/metrics`)).text());
    const leader = (await isLeader(pair[0]!)) ? pair[0]! : pair[1]!;
    const other = leader === pair[0] ? pair[1]! : pair[0]!;
    expect(await isLeader(leader)).toBe(true);

    other.pause();
    await waitFor('the worker paused', () => other.isStopped());
    expect((await leader.api('PUT', '/connectors/backup/stop')).status).toBe(202);
    const refused = await leader.api('PUT', '/connectors/backup/topics/reset');
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('TOPICS_RESET_NOT_STOPPED');
    expect(refused.body.message).toMatch(/not all its tasks have stopped yet: .*backup\/\d on r\d \(RUNNING\)/);
    expect((await leader.api('GET', '/connectors/backup/topics')).body).toEqual({ backup: { topics: [topic] } });

    other.resume();
    await waitFor(
      'the reset accepted once the resumed worker stopped its tasks',
      async () => (await leader.api('PUT', '/connectors/backup/topics/reset')).status === 202,
      {
        timeoutMs: 60_000,
        intervalMs: 500,
      },
    );
    await waitFor('no topic listed on either worker', async () =>
      (await Promise.all(pair.map(async (w) => (await w.api('GET', '/connectors/backup/topics')).body))).every((a) => a.backup.topics.length === 0),
    );
  }, 240_000);
});
