import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readPartitions } from '../helpers/broker-records.js';
import { checkCoverage, readBundle } from '../helpers/bundle-reader.js';
import { clusterWorkerConfig } from '../helpers/cluster-config.js';
import { createTopic, produceSteadily } from '../helpers/kafka.js';
import { fetchAll, recordCount, s3Client, s3Settings } from '../helpers/s3.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { freePort, WorkerProcess } from '../helpers/worker-process.js';

const PARTITIONS = 6;
const PER_PARTITION = 300;

describe('cluster mode: three workers share one connector through Kafka', () => {
  const dir = tmpDir('cluster');
  const workers: WorkerProcess[] = [];
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill('SIGKILL')));
  });

  it('a BackupSink with tasks.max 6 created through worker 2 runs on all three; every worker answers the same; deleting through worker 3 stops it everywhere', async () => {
    const group = uniqueName('cluster').toLowerCase();
    const topic = uniqueName('cl');
    const label = uniqueName('cl').toLowerCase();
    await createTopic(topic, PARTITIONS);
    for (const id of ['w1', 'w2', 'w3']) {
      mkdirSync(join(dir, id));
      workers.push(new WorkerProcess(join(dir, id), await freePort(), clusterWorkerConfig(group, id)));
    }
    await Promise.all(workers.map((w) => w.start()));
    const [w1, w2, w3] = workers as [WorkerProcess, WorkerProcess, WorkerProcess];

    const created = await w2.api('POST', '/connectors', {
      name: 'backup',
      config: { 'connector.class': 'BackupSink', topics: topic, 'tasks.max': '6', 'backup.label': label, 'bundle.max.age.ms': '500', ...s3Settings() },
    });
    expect(created.status).toBe(201);
    expect(created.body.name).toBe('backup');

    const statuses = await waitFor(
      'six RUNNING tasks spread over the three workers, the same on every worker',
      async () => {
        const answers = await Promise.all(workers.map((w) => w.api('GET', '/connectors/backup/status')));
        if (answers.some((a) => a.status !== 200)) return undefined;
        const first = JSON.stringify(answers[0]!.body);
        if (answers.some((a) => JSON.stringify(a.body) !== first)) return undefined;
        const tasks = answers[0]!.body.tasks as { state: string; worker_id: string }[];
        if (tasks.length !== 6 || tasks.some((t) => t.state !== 'RUNNING')) return undefined;
        if (answers[0]!.body.connector.state !== 'RUNNING') return undefined;
        return answers[0]!.body;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const byWorker = new Map<string, number>();
    for (const t of statuses.tasks as { worker_id: string }[]) byWorker.set(t.worker_id, (byWorker.get(t.worker_id) ?? 0) + 1);
    expect([...byWorker.keys()].sort()).toEqual(['w1', 'w2', 'w3']);
    expect([...byWorker.values()]).toEqual([2, 2, 2]);
    for (const w of workers) expect((await w.api('GET', '/connectors')).body).toEqual(['backup']);
    expect((await w1.api('GET', '/connectors/backup/tasks')).body).toHaveLength(6);

    // The data: every record exactly once, whichever worker's task backed its partition up.
    await produceSteadily(topic, PARTITIONS, 0, PER_PARTITION);
    const bucket = `coldstore-${label}-events`;
    const expected = await readPartitions(Array.from({ length: PARTITIONS }, (_, p) => ({ topic, partition: p, count: PER_PARTITION })));
    const objects = await waitFor(
      'every record in S3',
      async () => {
        const all = await fetchAll(s3Client(), bucket).catch(() => []);
        return recordCount(all) >= expected.length ? all : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
    checkCoverage(objects.map((o) => o.key));
    const backedUp = objects.flatMap((o) => readBundle(o.key, o.body).records);
    expect(backedUp).toHaveLength(expected.length);

    // A pause through worker 1 reaches every task.
    expect((await w1.api('PUT', '/connectors/backup/pause')).status).toBe(202);
    await waitFor('every task PAUSED', async () => {
      const status = (await w3.api('GET', '/connectors/backup/status')).body;
      return status.tasks.every((t: { state: string }) => t.state === 'PAUSED');
    });
    expect((await w2.api('PUT', '/connectors/backup/resume')).status).toBe(202);

    // A task restarted through worker 3 and a config changed through worker 1 reach the workers that run them.
    const before = (await w1.api('GET', '/connectors/backup/status')).body.tasks[4].worker_id as string;
    const restarted = await w3.api('POST', '/connectors/backup/tasks/4/restart');
    expect(restarted.status).toBe(204);
    const owner = workers[['w1', 'w2', 'w3'].indexOf(before)]!;
    const starts = () =>
      readFileSync(owner.logPath, 'utf8')
        .split('\n')
        .filter((l) => l.includes('"task":4') && l.includes('task started on this worker')).length;
    await waitFor('task 4 started a second time on its worker', async () => starts() === 2);
    expect((await w2.api('GET', '/connectors/backup/status')).body.tasks[4]).toMatchObject({ state: 'RUNNING', worker_id: before });
    const changed = await w1.api('PUT', '/connectors/backup/config', {
      'connector.class': 'BackupSink',
      topics: topic,
      'tasks.max': '3',
      'backup.label': label,
      'bundle.max.age.ms': '500',
      ...s3Settings(),
    });
    expect(changed.status).toBe(200);
    await waitFor('three tasks after the config change, the same on every worker', async () => {
      const answers = await Promise.all(workers.map((w) => w.api('GET', '/connectors/backup/status')));
      return answers.every((a) => a.body.tasks.length === 3 && a.body.tasks.every((t: { state: string }) => t.state === 'RUNNING'));
    });
    expect((await w2.api('GET', '/connectors/backup/config')).body['tasks.max']).toBe('3');

    // Delete through worker 3: gone everywhere.
    expect((await w3.api('DELETE', '/connectors/backup')).status).toBe(204);
    await waitFor('the connector gone from every worker', async () => {
      const answers = await Promise.all(workers.map((w) => w.api('GET', '/connectors/backup/status')));
      return answers.every((a) => a.status === 404);
    });
    for (const w of workers) expect((await w.api('GET', '/connectors')).body).toEqual([]);
  }, 180_000);
});
