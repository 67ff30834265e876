/**
 * Active topics (KIP-558, docs/rest-api.md): what a sink and a source list, reset only
 * while STOPPED, kept across a restart, forgotten on delete; against a real standalone
 * worker and the local Kafka.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopic, produceLines } from '../helpers/kafka.js';
import { connectorStatus, connectorTopics, createTestApp, expectError, type TestApp } from '../helpers/test-app.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

let t: TestApp;
const files = tmpDir('topics-out');

beforeAll(async () => {
  t = await createTestApp({ 'worker.id': uniqueName('topics') });
});

afterAll(async () => {
  await t?.app.stop();
});

describe('active topics (KIP-558)', () => {
  it('a sink lists the topics it consumed records from (not every one it subscribes to); reset only while STOPPED; kept across a restart; forgotten on delete', async () => {
    const used = uniqueName('used');
    const idle = uniqueName('idle');
    await createTopic(used, 1);
    await createTopic(idle, 1);
    const dataDir = tmpDir('parity-topics');
    let app = await createTestApp({ 'worker.id': uniqueName('topics') }, { dataDir });
    try {
      const name = uniqueName('sink');
      const out = join(files, `${uniqueName('t')}.jsonl`);
      const config = { 'connector.class': 'FileStreamSink', topics: `${used},${idle}`, file: out };
      expect((await app.call('POST', '/connectors', { name, config })).status).toBe(201);
      expect(await connectorTopics(app, name)).toEqual([]);
      produceLines(used, 0, ['k:1']);
      await waitFor('the used topic listed', async () => (await connectorTopics(app, name)).length > 0);
      expect(await connectorTopics(app, name)).toEqual([used]);

      expectError(await app.call('PUT', `/connectors/${name}/topics/reset`), 409, /STOPPED/);
      expect((await app.call('PUT', `/connectors/${name}/pause`)).status).toBe(202);
      const paused = await app.call('PUT', `/connectors/${name}/topics/reset`);
      expectError(paused, 409);
      expect(paused.body.code).toBe('TOPICS_RESET_NOT_STOPPED');
      expect((await app.call('PUT', `/connectors/${name}/stop`)).status).toBe(202);

      // Stopped, the worker restarts: the topics were stored with the connector's state.
      await app.app.stop();
      app = await createTestApp({ 'worker.id': uniqueName('topics') }, { dataDir });
      expect(await connectorStatus(app, name)).toMatchObject({ connector: { state: 'STOPPED' }, tasks: [] });
      expect(await connectorTopics(app, name)).toEqual([used]);

      const reset = await app.call('PUT', `/connectors/${name}/topics/reset`);
      expect(reset.status, reset.text).toBe(202);
      expect(reset.text).toBe('');
      expect(await connectorTopics(app, name)).toEqual([]);

      // Resumed, its tasks learn the topics again, from records of each.
      expect((await app.call('PUT', `/connectors/${name}/resume`)).status).toBe(202);
      produceLines(idle, 0, ['k:2']);
      await waitFor('the other topic listed', async () => (await connectorTopics(app, name)).includes(idle));
      produceLines(used, 0, ['k:3']);
      await waitFor('both topics listed', async () => (await connectorTopics(app, name)).length === 2);
      expect(await connectorTopics(app, name)).toEqual([idle, used].sort());

      expect((await app.call('DELETE', `/connectors/${name}`)).status).toBe(204);
      expectError(await app.call('GET', `/connectors/${name}/topics`), 404);
      expectError(await app.call('PUT', `/connectors/${name}/topics/reset`), 404);
      expect((await app.call('POST', '/connectors', { name, config, initial_state: 'STOPPED' })).status).toBe(201);
      expect(await connectorTopics(app, name)).toEqual([]);
      expect((await app.call('DELETE', `/connectors/${name}`)).status).toBe(204);
    } finally {
      await app.app.stop();
    }
  });

  it('a source lists the topics Kafka acknowledged its records in', async () => {
    const topic = uniqueName('produced');
    await createTopic(topic, 1);
    const name = uniqueName('src');
    const file = join(files, `${uniqueName('in')}.txt`);
    writeFileSync(file, 'a\nb\nc\nd\n');
    const config = { 'connector.class': 'FileStreamSource', file, topic, 'finish.at.eof': 'true' };
    expect((await t.call('POST', '/connectors', { name, config })).status).toBe(201);
    await waitFor('the task FINISHED', async () => (await connectorStatus(t, name)).tasks[0]?.state === 'FINISHED');
    expect(await connectorTopics(t, name)).toEqual([topic]);
    expect((await t.call('DELETE', `/connectors/${name}`)).status).toBe(204);
  });
});
