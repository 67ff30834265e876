/**
 * REST API of docs/rest-api.md (everything but offsets and auth/TLS), driven through fastify's
 * inject() against a real herder whose tasks talk to the real local Kafka. Connector
 * states, secrets and tasks are in rest-connector-states.test.ts.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { badFields, createTestApp, expectError, metricSample, type TestApp } from '../helpers/test-app.js';
import { restWorker } from '../helpers/rest-worker.js';
import { uniqueName } from '../helpers/tmp.js';

const SINK_CLASS = 'coldstore.connectors.FileStreamSink';
const SOURCE_CLASS = 'coldstore.connectors.FileStreamSource';
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const w = restWorker();
const { sinkConfig, createSink, status } = w;
let t: TestApp;
let topic: string;
beforeAll(() => {
  ({ t, topic } = w);
});

describe('system endpoints', () => {
  it('GET / answers version, commit and kafka_cluster_id', async () => {
    const res = await t.call('GET', '/');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['commit', 'kafka_cluster_id', 'version']);
    expect(res.body.version).toBe(VERSION);
    expect(res.body.commit).toEqual(expect.any(String));
    expect(res.body.commit.length).toBeGreaterThan(0);
    // Kafka's own id format (a UUID in url-safe base64); test/faults/kafka-readiness.test.ts
    // checks it is the broker's, on a broker formatted with a fresh id.
    expect(res.body.kafka_cluster_id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('GET /health is 503 before start() and 200 after', async () => {
    const fresh = await createTestApp({}, { start: false });
    try {
      const before = await fresh.call('GET', '/health');
      expect(before.status).toBe(503);
      expect(before.body).toMatchObject({ status: 'starting' });
      await fresh.app.start();
      const after = await fresh.call('GET', '/health');
      expect(after.status).toBe(200);
      expect(after.body).toMatchObject({ status: 'healthy' });
    } finally {
      await fresh.app.stop();
    }
  });

  it('GET /metrics is Prometheus text with one coldstore_task_state series per task and state', async () => {
    const name = await createSink();
    const res = await t.call('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toMatch(/^# HELP coldstore_task_state /m);
    expect(res.text).toMatch(/^# TYPE coldstore_task_state gauge$/m);
    const state = (s: string) => metricSample(res.text, 'coldstore_task_state', { connector: name, task: '0', state: s });
    expect(state('RUNNING')).toBe(1);
    for (const other of ['UNASSIGNED', 'PAUSED', 'STOPPED', 'FAILED', 'RESTARTING', 'FINISHED']) expect(state(other), other).toBe(0);
  });
});

describe('connector plugins', () => {
  it('GET /connector-plugins lists the built-in plugins with class, type and version', async () => {
    const res = await t.call('GET', '/connector-plugins');
    expect(res.status).toBe(200);
    expect(res.body).toEqual([
      { class: 'coldstore.connectors.BackupSink', type: 'sink', version: '1.0.0' },
      { class: 'coldstore.connectors.RestoreSource', type: 'source', version: '1.0.0' },
      { class: SINK_CLASS, type: 'sink', version: '1.0.0' },
      { class: SOURCE_CLASS, type: 'source', version: '1.0.0' },
    ]);
  });

  it('validate answers ConfigInfos with error_count 0 for a good config', async () => {
    const res = await t.call('PUT', '/connector-plugins/FileStreamSink/config/validate', { name: 'v', topics: topic, file: '/tmp/x' });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ name: SINK_CLASS, error_count: 0, groups: expect.arrayContaining(['Common']) });
    const names = res.body.configs.map((c: { definition: { name: string } }) => c.definition.name);
    expect(names).toEqual(expect.arrayContaining(['name', 'connector.class', 'tasks.max', 'topics', 'topics.regex', 'file']));
    for (const c of res.body.configs) expect(c.value.errors).toEqual([]);
    const file = res.body.configs.find((c: { definition: { name: string } }) => c.definition.name === 'file');
    expect(file.definition).toMatchObject({
      name: 'file',
      type: 'STRING',
      required: true,
      default_value: null,
      importance: 'HIGH',
      documentation: expect.any(String),
    });
    expect(file.value).toEqual({ name: 'file', value: '/tmp/x', recommended_values: [], errors: [], visible: true });
    const tasksMax = res.body.configs.find((c: { definition: { name: string } }) => c.definition.name === 'tasks.max');
    expect(tasksMax.definition).toMatchObject({ type: 'INT', required: false, default_value: '1' });
    expect(tasksMax.value).toMatchObject({ value: null, errors: [] });
  });

  it('validate counts every bad field and lists errors on each of them only', async () => {
    const res = await t.call('PUT', '/connector-plugins/FileStreamSink/config/validate', { name: 'v', 'tasks.max': 'abc' });
    expect(res.status, res.text).toBe(200);
    const bad = ['file', 'tasks.max', 'topics'];
    expect(res.body.error_count).toBe(bad.length);
    for (const c of res.body.configs as { definition: { name: string }; value: { name: string; errors: string[] } }[]) {
      expect(c.value.name).toBe(c.definition.name);
      if (bad.includes(c.definition.name)) expect(c.value.errors.length, c.definition.name).toBeGreaterThan(0);
      else expect(c.value.errors, c.definition.name).toEqual([]);
    }
  });

  it('validate of an unknown plugin is 404', async () => {
    expectError(await t.call('PUT', '/connector-plugins/NoSuchConnector/config/validate', { name: 'v' }), 404, /NoSuchConnector/);
  });
});

describe('connector CRUD', () => {
  it('POST /connectors creates (201 with info), then 409 for the same name', async () => {
    const name = uniqueName('crud');
    const config = sinkConfig();
    const res = await t.call('POST', '/connectors', { name, config });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toEqual({ name, config: { ...config, name }, tasks: [{ connector: name, task: 0 }], type: 'sink' });
    expect(res.headers['location']).toBe(`/connectors/${name}`);
    expectError(await t.call('POST', '/connectors', { name, config }), 409, new RegExp(name));
  });

  it('POST /connectors with an invalid config is 400 naming every bad field', async () => {
    const res = await t.call('POST', '/connectors', { name: uniqueName('bad'), config: { 'connector.class': 'FileStreamSink', 'tasks.max': 'abc' } });
    expectError(res, 400);
    expect(badFields(res)).toEqual(['file', 'tasks.max', 'topics']);
    for (const field of ['file', 'tasks.max', 'topics']) expect(res.body.message).toContain(field);

    const unknown = await t.call('POST', '/connectors', { name: uniqueName('bad'), config: { 'connector.class': 'com.example.Nope', 'tasks.max': 'abc' } });
    expectError(unknown, 400, /com\.example\.Nope/);
    expect(badFields(unknown)).toEqual(['connector.class', 'tasks.max']);
  });

  it('POST /connectors without a name, or with a body that is not an object, is 400', async () => {
    expectError(await t.call('POST', '/connectors', { config: sinkConfig() }), 400, /name/);
    expectError(await t.call('POST', '/connectors', { name: 'a/b', config: sinkConfig() }), 400, /name/);
    expectError(await t.call('POST', '/connectors', '"just a string"'), 400);
    expectError(await t.call('POST', '/connectors', { name: uniqueName('x'), config: 'nope' }), 400);
  });

  it('GET /connectors lists names; expand=status, expand=info and both add those objects', async () => {
    const a = await createSink();
    const b = await createSink();
    const plain = await t.call('GET', '/connectors');
    expect(plain.status).toBe(200);
    expect(plain.body).toEqual(expect.arrayContaining([a, b]));
    expect(plain.body.every((n: unknown) => typeof n === 'string')).toBe(true);

    const withStatus = await t.call('GET', '/connectors?expand=status');
    expect(withStatus.status).toBe(200);
    expect(Object.keys(withStatus.body).sort()).toEqual([...plain.body].sort());
    expect(withStatus.body[a]).toEqual({ status: await status(a) });

    const withInfo = await t.call('GET', '/connectors?expand=info');
    expect(withInfo.body[b]).toEqual({ info: (await t.call('GET', `/connectors/${b}`)).body });

    const both = await t.call('GET', '/connectors?expand=status&expand=info');
    expect(Object.keys(both.body[a]).sort()).toEqual(['info', 'status']);
    expect(both.body[a].info).toMatchObject({ name: a, type: 'sink', tasks: [{ connector: a, task: 0 }] });
    expect(both.body[a].status).toMatchObject({ name: a, connector: { state: 'RUNNING' } });
  });

  it('GET /connectors/{name} and /config; PUT /config creates (201), updates (200), rejects a name mismatch (400)', async () => {
    const name = uniqueName('put');
    const first = sinkConfig();
    const created = await t.call('PUT', `/connectors/${name}/config`, first);
    expect(created.status, created.text).toBe(201);
    expect(created.body).toEqual({ name, config: { ...first, name }, tasks: [{ connector: name, task: 0 }], type: 'sink' });

    const second = { ...sinkConfig(), 'tasks.max': '2' };
    const updated = await t.call('PUT', `/connectors/${name}/config`, second);
    expect(updated.status, updated.text).toBe(200);
    expect(updated.body.config).toEqual({ ...second, name });

    const info = await t.call('GET', `/connectors/${name}`);
    expect(info.status).toBe(200);
    // FileStreamSink runs one task whatever tasks.max says.
    expect(info.body).toEqual({ name, config: { ...second, name }, tasks: [{ connector: name, task: 0 }], type: 'sink' });
    const config = await t.call('GET', `/connectors/${name}/config`);
    expect(config.status).toBe(200);
    expect(config.body).toEqual({ ...second, name });

    const mismatch = await t.call('PUT', `/connectors/${name}/config`, { ...second, name: 'other' });
    expectError(mismatch, 400);
    expect(badFields(mismatch)).toEqual(['name']);
    const invalid = await t.call('PUT', `/connectors/${name}/config`, { 'connector.class': 'FileStreamSink', topics: topic });
    expectError(invalid, 400);
    expect(badFields(invalid)).toEqual(['file']);
    expect((await t.call('GET', `/connectors/${name}/config`)).body).toEqual({ ...second, name });

    // PUT checks the name from the path like POST checks the body's.
    for (const bad of ['a%2Fb', '%20padded', 'back%5Cslash']) expectError(await t.call('PUT', `/connectors/${bad}/config`, sinkConfig()), 400, /name/);
    expect((await t.call('GET', '/connectors')).body).not.toContain('a/b');
  });

  it('DELETE /connectors/{name} is 204, then the connector is 404 everywhere', async () => {
    const name = await createSink();
    const res = await t.call('DELETE', `/connectors/${name}`);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect((await t.call('GET', '/connectors')).body).not.toContain(name);
    const calls: [string, string][] = [
      ['GET', ''],
      ['GET', '/config'],
      ['GET', '/status'],
      ['GET', '/tasks'],
      ['GET', '/tasks/0/status'],
      ['POST', '/tasks/0/restart'],
      ['PUT', '/pause'],
      ['PUT', '/resume'],
      ['PUT', '/stop'],
      ['POST', '/restart'],
      ['GET', '/offsets'],
      ['DELETE', '/offsets'],
      ['DELETE', ''],
    ];
    for (const [method, suffix] of calls) {
      const reply = await t.call(method, `/connectors/${name}${suffix}`);
      expect(reply.status, `${method} /connectors/${name}${suffix}`).toBe(404);
      expectError(reply, 404, new RegExp(name));
    }
    const patch = await t.call('PATCH', `/connectors/${name}/offsets`, { offsets: [] });
    expectError(patch, 404);
  });
});

describe('errors', () => {
  it('an unknown route is 404 with error_code and message', async () => {
    expectError(await t.call('GET', '/no/such/route'), 404, /\/no\/such\/route/);
    expectError(await t.call('PATCH', '/connectors'), 404);
  });

  it('a malformed JSON body is 400 with error_code and message', async () => {
    expectError(await t.call('POST', '/connectors', '{"name": "x", "config": {'), 400);
    expectError(await t.call('PUT', `/connectors/${uniqueName('x')}/config`, '{not json'), 400);
    expectError(await t.call('PUT', `/connectors/${uniqueName('x')}/config`, '["a", "b"]'), 400);
    expectError(await t.call('POST', '/connectors', '<connector/>', { 'content-type': 'application/xml' }), 415);
  });
});
