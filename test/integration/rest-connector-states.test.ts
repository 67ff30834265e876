/**
 * REST API of docs/rest-api.md: connector states (status, pause, resume, stop, restart),
 * secrets in connector configs, and tasks, through fastify's inject() against a real
 * herder whose tasks talk to the real local Kafka.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { produceLines } from '../helpers/kafka.js';
import { badFields, connectorsFile, decoded, expectError, metricSample, sinkLines, type TestApp } from '../helpers/test-app.js';
import { restWorker } from '../helpers/rest-worker.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const w = restWorker();
const { workerId: WORKER_ID, files, sinkConfig, createSink, status, waitForTaskState } = w;
let t: TestApp;
let topic: string;
beforeAll(() => {
  ({ t, topic } = w);
});

describe('secrets in connector configs', () => {
  const RESOLVED = `resolved-${uniqueName('s3cr3t')}`;
  beforeAll(() => {
    process.env['CS_REST_TEST_SECRET'] = RESOLVED;
  });

  it('are masked or left as placeholders in every answer, the store and the logs', async () => {
    const name = uniqueName('secret');
    const config = { ...sinkConfig(), 'aws.secret.access.key': 'plain-secret', 'db.password': '${env:CS_REST_TEST_SECRET}' };
    const shown = { ...config, name, 'aws.secret.access.key': '[hidden]' };

    const created = await t.call('POST', '/connectors', { name, config });
    expect(created.status, created.text).toBe(201);
    expect(created.body.config).toEqual(shown);
    expect((await t.call('GET', `/connectors/${name}`)).body.config).toEqual(shown);
    expect((await t.call('GET', `/connectors/${name}/config`)).body).toEqual(shown);
    expect((await t.call('GET', '/connectors?expand=info')).body[name].info.config).toEqual(shown);
    const tasks = await t.call('GET', `/connectors/${name}/tasks`);
    expect(tasks.body).toEqual([{ id: { connector: name, task: 0 }, config: shown }]);
    const updated = await t.call('PUT', `/connectors/${name}/config`, config);
    expect(updated.body.config).toEqual(shown);

    const everything = [
      created.text,
      tasks.text,
      updated.text,
      (await t.call('GET', `/connectors?expand=info&expand=status`)).text,
      (await t.call('GET', `/connectors/${name}/status`)).text,
      (await t.call('GET', `/connectors/${name}/tasks/0/status`)).text,
    ].join('\n');
    expect(everything).not.toContain(RESOLVED);
    expect(everything).not.toContain('plain-secret');

    const stored = readFileSync(connectorsFile(t.dataDir), 'utf8');
    expect(JSON.parse(stored)[name].config['db.password']).toBe('${env:CS_REST_TEST_SECRET}');
    expect(stored).not.toContain(RESOLVED);

    const logs = t.logs.join('');
    expect(logs).toContain(name);
    expect(logs).not.toContain(RESOLVED);
    expect(logs).not.toContain('plain-secret');
  });

  it('a value from a placeholder is quoted as the placeholder in validation errors', async () => {
    const config = { ...sinkConfig(), 'tasks.max': '${env:CS_REST_TEST_SECRET}' };
    const created = await t.call('POST', '/connectors', { name: uniqueName('secret'), config });
    expectError(created, 400, /\$\{env:CS_REST_TEST_SECRET\}/);
    expect(badFields(created)).toEqual(['tasks.max']);
    expect(created.text).not.toContain(RESOLVED);

    const validated = await t.call('PUT', '/connector-plugins/FileStreamSink/config/validate', { ...config, name: 'v' });
    expect(validated.body.error_count).toBe(1);
    expect(validated.text).toContain('${env:CS_REST_TEST_SECRET}');
    expect(validated.text).not.toContain(RESOLVED);
  });

  it('a task trace quotes the placeholder, not the value it resolved to', async () => {
    const name = await createSink(sinkConfig(join(files, 'no-such-dir', '${env:CS_REST_TEST_SECRET}', 'out.jsonl')));
    const failed = await waitForTaskState(name, 'FAILED');
    expect(failed.tasks[0]!.trace).toContain(join(files, 'no-such-dir', '${env:CS_REST_TEST_SECRET}', 'out.jsonl'));
    const answers = [
      JSON.stringify(failed),
      (await t.call('GET', `/connectors/${name}/tasks/0/status`)).text,
      (await t.call('GET', '/connectors?expand=status')).text,
    ];
    for (const text of answers) expect(text).not.toContain(RESOLVED);
  });

  it('the task failure log line quotes the placeholder, not the value it resolved to', async () => {
    const name = await createSink(sinkConfig(join(files, 'no-such-dir', '${env:CS_REST_TEST_SECRET}', 'out.jsonl')));
    await waitForTaskState(name, 'FAILED');
    const failures = t.logs.filter((l) => l.includes('task failed') && l.includes(name));
    expect(failures.length).toBeGreaterThan(0);
    for (const line of failures) expect(line).not.toContain(RESOLVED);
  });

  it('an unresolvable placeholder is 400 naming its field', async () => {
    const res = await t.call('POST', '/connectors', { name: uniqueName('secret'), config: { ...sinkConfig(), 'db.password': '${env:NOT_SET_ANYWHERE}' } });
    expectError(res, 400, /NOT_SET_ANYWHERE/);
    expect(badFields(res)).toEqual(['db.password']);
  });
});

describe('status, pause, resume, stop', () => {
  it('RUNNING status has the Kafka Connect shape, with per-task status', async () => {
    const name = await createSink();
    expect(await status(name)).toEqual({
      name,
      connector: { state: 'RUNNING', worker_id: WORKER_ID },
      tasks: [{ id: 0, state: 'RUNNING', worker_id: WORKER_ID }],
      type: 'sink',
    });
    const task = await t.call('GET', `/connectors/${name}/tasks/0/status`);
    expect(task.status).toBe(200);
    expect(task.body).toEqual({ id: 0, state: 'RUNNING', worker_id: WORKER_ID });
    expectError(await t.call('GET', `/connectors/${name}/tasks/1/status`), 404, /Task 1/);
    expectError(await t.call('GET', `/connectors/${name}/tasks/abc/status`), 404);
    expectError(await t.call('POST', `/connectors/${name}/tasks/7/restart`), 404, /Task 7/);
  });

  it('pause → PAUSED, resume → RUNNING, stop → STOPPED without tasks, resume → RUNNING again', async () => {
    const output = join(files, `${uniqueName('out')}.jsonl`);
    const name = await createSink(sinkConfig(output));
    const put = async (action: string) => {
      const res = await t.call('PUT', `/connectors/${name}/${action}`);
      expect(res.status, `${action}: ${res.text}`).toBe(202);
    };

    await put('pause');
    expect(await status(name)).toMatchObject({ connector: { state: 'PAUSED' }, tasks: [{ id: 0, state: 'PAUSED' }] });
    expect((await t.call('GET', `/connectors/${name}/tasks/0/status`)).body.state).toBe('PAUSED');

    await put('resume');
    expect(await status(name)).toMatchObject({ connector: { state: 'RUNNING' }, tasks: [{ id: 0, state: 'RUNNING' }] });

    // Like Kafka Connect, a STOPPED connector keeps its config but has no tasks at all
    // (ConnectorInstance.apply shuts every task down; docs/rest-api.md: "status shows no tasks").
    await put('stop');
    const stopped = await status(name);
    expect(stopped).toEqual({ name, connector: { state: 'STOPPED', worker_id: WORKER_ID }, tasks: [], type: 'sink' });
    expect((await t.call('GET', `/connectors/${name}/tasks`)).body).toEqual([]);
    expect((await t.call('GET', `/connectors/${name}`)).body).toMatchObject({ name, tasks: [], config: { name } });
    expectError(await t.call('GET', `/connectors/${name}/tasks/0/status`), 404);

    // A connector paused while stopped comes back paused, and the target state survives a config update.
    await put('pause');
    expect(await status(name)).toMatchObject({ connector: { state: 'PAUSED' }, tasks: [{ id: 0, state: 'PAUSED' }] });
    const updated = await t.call('PUT', `/connectors/${name}/config`, sinkConfig(output));
    expect(updated.status).toBe(200);
    expect(await status(name)).toMatchObject({ connector: { state: 'PAUSED' }, tasks: [{ id: 0, state: 'PAUSED' }] });

    await put('resume');
    expect(await status(name)).toMatchObject({ connector: { state: 'RUNNING' }, tasks: [{ id: 0, state: 'RUNNING' }] });
    // And it really works again: a record produced now reaches the file.
    const marker = uniqueName('after-resume');
    produceLines(topic, 0, [`k:${marker}`]);
    await waitFor('the record to reach the file', () => sinkLines(output).some((l) => decoded(l.value) === marker));
  });

  it('a task that cannot open its file is FAILED with a trace; restart after fixing the cause makes it RUNNING', async () => {
    const dir = join(tmpDir('rest-missing'), 'not-yet');
    const output = join(dir, 'out.jsonl');
    const name = await createSink(sinkConfig(output));

    const failed = await waitForTaskState(name, 'FAILED');
    expect(failed.connector.state).toBe('RUNNING');
    expect(failed.tasks[0]!.trace).toContain(output);
    const task = await t.call('GET', `/connectors/${name}/tasks/0/status`);
    expect(task.body).toMatchObject({ id: 0, state: 'FAILED', worker_id: WORKER_ID, trace: expect.stringContaining(output) });
    const metrics = await t.call('GET', '/metrics');
    expect(metricSample(metrics.text, 'coldstore_task_state', { connector: name, task: '0', state: 'FAILED' })).toBe(1);
    expect(metricSample(metrics.text, 'coldstore_task_state', { connector: name, task: '0', state: 'RUNNING' })).toBe(0);

    // Restarting only failed tasks while the cause is still there: 202 with the status, and FAILED again.
    const again = await t.call('POST', `/connectors/${name}/restart?includeTasks=true&onlyFailed=true`);
    expect(again.status, again.text).toBe(202);
    expect(again.body).toMatchObject({ name, connector: { state: 'RUNNING' }, tasks: [{ id: 0 }], type: 'sink' });
    await waitForTaskState(name, 'FAILED');

    mkdirSync(dir);
    const restarted = await t.call('POST', `/connectors/${name}/tasks/0/restart`);
    expect(restarted.status, restarted.text).toBe(204);
    expect(restarted.text).toBe('');
    const running = await waitForTaskState(name, 'RUNNING');
    expect(running.tasks[0]!.trace).toBeUndefined();
    const marker = uniqueName('after-restart');
    produceLines(topic, 0, [`k:${marker}`]);
    await waitFor('the restarted task to write the record', () => sinkLines(output).some((l) => decoded(l.value) === marker));
    expect((await status(name)).tasks[0]!.state).toBe('RUNNING');
  });

  it('POST /connectors/{name}/restart is 204; with includeTasks&onlyFailed it is 202 with the status', async () => {
    const name = await createSink();
    const plain = await t.call('POST', `/connectors/${name}/restart`);
    expect(plain.status, plain.text).toBe(204);
    expect(plain.text).toBe('');
    expect(await status(name)).toMatchObject({ connector: { state: 'RUNNING' }, tasks: [{ id: 0, state: 'RUNNING' }] });

    const extended = await t.call('POST', `/connectors/${name}/restart?includeTasks=true&onlyFailed=true`);
    expect(extended.status, extended.text).toBe(202);
    expect(extended.body).toEqual({
      name,
      connector: { state: 'RUNNING', worker_id: WORKER_ID },
      tasks: [{ id: 0, state: 'RUNNING', worker_id: WORKER_ID }],
      type: 'sink',
    });

    const all = await t.call('POST', `/connectors/${name}/restart?includeTasks=true`);
    expect(all.status, all.text).toBe(202);
    expect(all.body).toMatchObject({ name, connector: { state: 'RUNNING' }, tasks: [{ id: 0, state: 'RUNNING' }] });
  });
});

describe('tasks', () => {
  it('GET /connectors/{name}/tasks lists each task id with its config', async () => {
    const config = sinkConfig();
    const name = await createSink(config);
    const res = await t.call('GET', `/connectors/${name}/tasks`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual([{ id: { connector: name, task: 0 }, config: { ...config, name } }]);
  });
});
