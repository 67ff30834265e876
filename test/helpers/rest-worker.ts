import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { createTopic } from './kafka.js';
import { createTestApp, type TestApp } from './test-app.js';
import { tmpDir, uniqueName } from './tmp.js';
import { waitFor } from './wait.js';

export interface ConnectorStatus {
  name: string;
  connector: { state: string; worker_id: string; trace?: string };
  tasks: { id: number; state: string; worker_id: string; trace?: string }[];
  type: string;
}

/**
 * One worker for a file of REST tests (the real herder, inject(), the real local Kafka,
 * a one-partition topic), emptied of connectors after each test so tests do not depend
 * on each other. Call at the top level of the file; `t` and `topic` are set once its
 * beforeAll ran.
 */
export function restWorker() {
  const workerId = uniqueName('rest-worker');
  const files = tmpDir('rest-out');
  const w = {
    t: undefined as unknown as TestApp,
    topic: '',
    workerId,
    files,
    sinkConfig(file = join(files, `${uniqueName('out')}.jsonl`)): Record<string, string> {
      return { 'connector.class': 'FileStreamSink', topics: w.topic, file };
    },
    /** Creates a FileStreamSink connector and returns its name. */
    async createSink(config: Record<string, string> = w.sinkConfig(), name = uniqueName('sink')): Promise<string> {
      const res = await w.t.call('POST', '/connectors', { name, config });
      expect(res.status, res.text).toBe(201);
      return name;
    },
    async status(name: string): Promise<ConnectorStatus> {
      const res = await w.t.call('GET', `/connectors/${name}/status`);
      expect(res.status, res.text).toBe(200);
      return res.body as ConnectorStatus;
    },
    waitForTaskState(name: string, state: string, id = 0) {
      return waitFor(`task ${id} of ${name} to be ${state}`, async () => {
        const s = await w.status(name);
        return s.tasks[id]?.state === state ? s : undefined;
      });
    },
  };
  beforeAll(async () => {
    w.topic = uniqueName('rest');
    await createTopic(w.topic, 1);
    w.t = await createTestApp({ 'worker.id': workerId }, { captureLogs: true });
  });
  afterEach(async () => {
    for (const name of w.t.app.herder.names()) expect((await w.t.call('DELETE', `/connectors/${name}`)).status).toBe(204);
  });
  afterAll(async () => {
    await w.t?.app.stop();
  });
  return w;
}
