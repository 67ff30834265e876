/**
 * KIP-875 offsets endpoints (GET|PATCH|DELETE /connectors/{name}/offsets) through inject(),
 * for a FileStreamSink consuming a real topic and a FileStreamSource producing to one.
 */
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumeAll, createTopic, produceLines } from '../helpers/kafka.js';
import { createTestApp, decoded, expectError, metricSample, sinkLines, type TestApp } from '../helpers/test-app.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

let t: TestApp;
const files = tmpDir('rest-offsets');

beforeAll(async () => {
  t = await createTestApp();
});

afterAll(async () => {
  await t?.app.stop();
});

async function offsets(name: string): Promise<{ offsets: { partition: Record<string, unknown>; offset: Record<string, unknown> | null }[] }> {
  const res = await t.call('GET', `/connectors/${name}/offsets`);
  expect(res.status, res.text).toBe(200);
  return res.body;
}

async function setTarget(name: string, action: 'pause' | 'resume' | 'stop'): Promise<void> {
  const res = await t.call('PUT', `/connectors/${name}/${action}`);
  expect(res.status, res.text).toBe(202);
}

async function taskStatus(name: string) {
  const res = await t.call('GET', `/connectors/${name}/tasks/0/status`);
  expect(res.status, res.text).toBe(200);
  return res.body as { id: number; state: string; worker_id: string; trace?: string; progress?: Record<string, unknown> };
}

/** The offsets (as numbers) of the sink's output lines, in file order. */
function deliveredOffsets(file: string): number[] {
  return sinkLines(file).map((l) => Number(l.offset));
}

describe('sink connector offsets', () => {
  const topic = uniqueName('rest-offsets');
  const name = uniqueName('offsets-sink');
  const output = join(files, 'sink.jsonl');
  const sinkOffset = (next: number) => ({ partition: { kafka_topic: topic, kafka_partition: 0 }, offset: { kafka_offset: next } });

  beforeAll(async () => {
    await createTopic(topic, 1);
    const res = await t.call('POST', '/connectors', { name, config: { 'connector.class': 'FileStreamSink', topics: topic, file: output } });
    expect(res.status, res.text).toBe(201);
  });

  it('GET shows the next offset of each partition once records are delivered and committed', async () => {
    produceLines(topic, 0, ['k0:v0', 'k1:v1', 'k2:v2']);
    await waitFor('3 records in the sink file', () => sinkLines(output).length === 3);
    expect(sinkLines(output).map((l) => [decoded(l.key), decoded(l.value)])).toEqual([
      ['k0', 'v0'],
      ['k1', 'v1'],
      ['k2', 'v2'],
    ]);
    const committed = await waitFor('offset 3 committed', async () => {
      const body = await offsets(name);
      return body.offsets.length > 0 && body.offsets[0]?.offset?.['kafka_offset'] === 3 ? body : undefined;
    });
    expect(committed).toEqual({ offsets: [sinkOffset(3)] });
  });

  it('GET /metrics counts the records handed to the sink', async () => {
    const res = await t.call('GET', '/metrics');
    expect(metricSample(res.text, 'coldstore_sink_records_total', { connector: name, task: '0' })).toBe(3);
    expect(metricSample(res.text, 'coldstore_task_state', { connector: name, task: '0', state: 'RUNNING' })).toBe(1);
  });

  it("GET /metrics shows each partition's committed position", async () => {
    const res = await t.call('GET', '/metrics');
    expect(metricSample(res.text, 'coldstore_sink_committed_offset', { connector: name, task: '0', topic, partition: '0' })).toBe(3);
  });

  it('PATCH and DELETE while the connector is not STOPPED are 400', async () => {
    expectError(await t.call('PATCH', `/connectors/${name}/offsets`, { offsets: [sinkOffset(1)] }), 400, /STOPPED/);
    expectError(await t.call('DELETE', `/connectors/${name}/offsets`), 400, /STOPPED/);
    await setTarget(name, 'pause');
    expectError(await t.call('PATCH', `/connectors/${name}/offsets`, { offsets: [sinkOffset(1)] }), 400, /STOPPED/);
    await setTarget(name, 'resume');
    expect(await offsets(name)).toEqual({ offsets: [sinkOffset(3)] });
  });

  it('after stop, PATCH moves the offset (200), GET shows it and resume re-delivers from there', async () => {
    await setTarget(name, 'stop');
    const res = await t.call('PATCH', `/connectors/${name}/offsets`, { offsets: [sinkOffset(1)] });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ message: expect.any(String) });
    expect(await offsets(name)).toEqual({ offsets: [sinkOffset(1)] });

    await setTarget(name, 'resume');
    await waitFor('offsets 1 and 2 re-delivered', () => sinkLines(output).length === 5);
    expect(deliveredOffsets(output)).toEqual([0, 1, 2, 1, 2]);
    await waitFor('offset 3 committed again', async () => (await offsets(name)).offsets[0]?.offset?.['kafka_offset'] === 3);
  });

  it('a malformed PATCH body is 400 and changes nothing', async () => {
    await setTarget(name, 'stop');
    const bad: unknown[] = [
      {},
      { offsets: [] },
      { offsets: 'nope' },
      { offsets: [{ offset: { kafka_offset: 1 } }] },
      { offsets: [{ partition: { kafka_topic: topic }, offset: { kafka_offset: 1 } }] },
      { offsets: [{ partition: { kafka_topic: topic, kafka_partition: -1 }, offset: { kafka_offset: 1 } }] },
      { offsets: [{ partition: { kafka_topic: topic, kafka_partition: 0 }, offset: { kafka_offset: -5 } }] },
      { offsets: [{ partition: { kafka_topic: topic, kafka_partition: 0 }, offset: { kafka_offset: '2' } }] },
      { offsets: [{ partition: { kafka_topic: topic, kafka_partition: 0 } }] },
      { offsets: [sinkOffset(2), { partition: { kafka_topic: topic, kafka_partition: 0 }, offset: 7 }] },
    ];
    for (const body of bad) expectError(await t.call('PATCH', `/connectors/${name}/offsets`, body), 400);
    expectError(await t.call('PATCH', `/connectors/${name}/offsets`, '{"offsets": ['), 400);
    expect(await offsets(name)).toEqual({ offsets: [sinkOffset(3)] });
  });

  it('DELETE resets the offsets (200, GET is empty) and resume re-delivers from the start', async () => {
    const res = await t.call('DELETE', `/connectors/${name}/offsets`);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ message: expect.any(String) });
    expect(await offsets(name)).toEqual({ offsets: [] });

    await setTarget(name, 'resume');
    await waitFor('every record re-delivered', () => sinkLines(output).length === 8);
    expect(deliveredOffsets(output)).toEqual([0, 1, 2, 1, 2, 0, 1, 2]);
    await waitFor('offset 3 committed after the reset', async () => (await offsets(name)).offsets[0]?.offset?.['kafka_offset'] === 3);
  });

  it('PATCH with a null offset resets one partition to the earliest offset', async () => {
    await setTarget(name, 'stop');
    const res = await t.call('PATCH', `/connectors/${name}/offsets`, { offsets: [{ partition: { kafka_topic: topic, kafka_partition: 0 }, offset: null }] });
    expect(res.status, res.text).toBe(200);
    expect(await offsets(name)).toEqual({ offsets: [] });
    await setTarget(name, 'resume');
    await waitFor('every record re-delivered again', () => sinkLines(output).length === 11);
    expect(deliveredOffsets(output).slice(8)).toEqual([0, 1, 2]);
  });
});

describe('source connector offsets', () => {
  const topic = uniqueName('rest-source');
  const name = uniqueName('offsets-source');
  const input = join(files, 'input.txt');
  const lines = ['alpha', 'beta', 'gamma', 'delta'];

  beforeAll(async () => {
    await createTopic(topic, 1);
    writeFileSync(input, lines.map((l) => `${l}\n`).join(''));
  });

  it('a FileStreamSource with finish.at.eof reaches FINISHED with its progress, and GET shows {file} → {position}', async () => {
    const size = statSync(input).size;
    const res = await t.call('POST', '/connectors', {
      name,
      config: { 'connector.class': 'FileStreamSource', file: input, topic, 'finish.at.eof': 'true' },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ name, type: 'source', tasks: [{ connector: name, task: 0 }] });

    const finished = await waitFor('the source task to finish', async () => {
      const s = await taskStatus(name);
      return s.state === 'FINISHED' ? s : undefined;
    });
    expect(finished).toEqual({ id: 0, state: 'FINISHED', worker_id: expect.any(String), progress: { lines: lines.length, position: size } });
    const status = await t.call('GET', `/connectors/${name}/status`);
    expect(status.body).toMatchObject({ name, type: 'source', tasks: [{ id: 0, state: 'FINISHED', progress: { lines: lines.length, position: size } }] });

    expect(await offsets(name)).toEqual({ offsets: [{ partition: { file: input }, offset: { position: size } }] });
    expect(consumeAll(topic, lines.length).map((m) => m.payload)).toEqual(lines);
    const metrics = await t.call('GET', '/metrics');
    expect(metricSample(metrics.text, 'coldstore_task_state', { connector: name, task: '0', state: 'FINISHED' })).toBe(1);
    expect(metricSample(metrics.text, 'coldstore_source_records_total', { connector: name, task: '0' })).toBe(lines.length);
  });

  it('after stop, PATCH moves the source offset (a finished job stays FINISHED); DELETE makes it start over', async () => {
    await setTarget(name, 'stop');
    const afterFirstLine = 'alpha\n'.length;
    const patched = await t.call('PATCH', `/connectors/${name}/offsets`, { offsets: [{ partition: { file: input }, offset: { position: afterFirstLine } }] });
    expect(patched.status, patched.text).toBe(200);
    expect(await offsets(name)).toEqual({ offsets: [{ partition: { file: input }, offset: { position: afterFirstLine } }] });

    // The task state still says FINISHED: only a reset (DELETE) forgets it and runs the job again.
    await setTarget(name, 'resume');
    expect((await taskStatus(name)).state).toBe('FINISHED');
    await setTarget(name, 'stop');

    const reset = await t.call('DELETE', `/connectors/${name}/offsets`);
    expect(reset.status, reset.text).toBe(200);
    expect(await offsets(name)).toEqual({ offsets: [] });
    await setTarget(name, 'resume');
    await waitFor('the source to run again and finish', async () => (await taskStatus(name)).state === 'FINISHED');
    expect(consumeAll(topic, 2 * lines.length).map((m) => m.payload)).toEqual([...lines, ...lines]);
    expect(await offsets(name)).toEqual({ offsets: [{ partition: { file: input }, offset: { position: statSync(input).size } }] });
  });

  it('a malformed source PATCH body is 400', async () => {
    await setTarget(name, 'stop');
    expectError(await t.call('PATCH', `/connectors/${name}/offsets`, { offsets: [{ offset: { position: 1 } }] }), 400);
    expectError(await t.call('PATCH', `/connectors/${name}/offsets`, { offsets: [{ partition: { file: input }, offset: 'x' }] }), 400);
  });
});
