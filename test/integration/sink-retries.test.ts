import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../app/app.js';
import { createTestApp } from '../helpers/test-app.js';
import { createTopic, produceLines } from '../helpers/kafka.js';
import { uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { newScript, scriptedSink } from '../helpers/scripted-sink.js';

describe('sink loop under put failures', () => {
  let app: App;
  beforeAll(async () => {
    ({ app } = await createTestApp({ 'offset.flush.interval.ms': 100 }, { plugins: [scriptedSink] }));
  });
  afterAll(async () => {
    await app.stop();
  });

  it('retries the same batch after retriable failures: every record once, in order, task stays RUNNING', async () => {
    const topic = uniqueName('retry');
    const name = uniqueName('scripted');
    const script = newScript(name, { failPutCalls: new Set([1, 2, 3]) });
    await createTopic(topic, 1);
    produceLines(
      topic,
      0,
      Array.from({ length: 200 }, (_, i) => `k${i}:v${i}`),
    );
    await app.herder.putConfig(name, { 'connector.class': 'test.ScriptedSink', topics: topic, script: name }, true);

    await waitFor('all records accepted', () => script.accepted.length >= 200);
    expect(script.accepted.map((r) => Number(r.offset))).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(script.accepted.map((r) => r.value?.toString())).toEqual(Array.from({ length: 200 }, (_, i) => `v${i}`));
    const offsets = await waitFor('offsets committed', async () => {
      const { offsets: o } = await app.herder.getOffsets(name);
      return o[0]?.offset?.['kafka_offset'] === 200 ? o : undefined;
    });
    expect(offsets).toEqual([{ partition: { kafka_topic: topic, kafka_partition: 0 }, offset: { kafka_offset: 200 } }]);
    expect(app.herder.status(name).tasks[0]?.state).toBe('RUNNING');
    const metrics = await app.server.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(new RegExp(`coldstore_task_errors_total\\{connector="${name}",task="0",kind="retriable"[^}]*\\} 3`));
  });

  it('fails the task with a trace on a non-retriable error and commits nothing it did not store', async () => {
    const topic = uniqueName('fatal');
    const name = uniqueName('scripted');
    const script = newScript(name, { fatalOnCall: 2 });
    await createTopic(topic, 1);
    produceLines(
      topic,
      0,
      Array.from({ length: 10 }, (_, i) => `k${i}:v${i}`),
    );
    await app.herder.putConfig(name, { 'connector.class': 'test.ScriptedSink', topics: topic, script: name }, true);
    await waitFor('first batch accepted', () => script.accepted.length === 10);
    produceLines(
      topic,
      0,
      Array.from({ length: 10 }, (_, i) => `k${10 + i}:v${10 + i}`),
    );
    const task = await waitFor('task FAILED', () => {
      const t = app.herder.status(name).tasks[0];
      return t?.state === 'FAILED' ? t : undefined;
    });
    expect(task.trace).toMatch(/scripted fatal failure/);
    const { offsets } = await app.herder.getOffsets(name);
    // Whatever was committed is at most what the task stored (10), never the failed batch.
    for (const entry of offsets) expect(Number(entry.offset?.['kafka_offset'])).toBeLessThanOrEqual(10);
    expect(app.herder.status(name).connector.state).toBe('RUNNING');
  });
});
