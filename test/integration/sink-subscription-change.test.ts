import { afterAll, describe, expect, it } from 'vitest';
import type { App } from '../../app/app.js';
import { createTopic, produceLines } from '../helpers/kafka.js';
import { createTestApp, sinkLines } from '../helpers/test-app.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

describe('a sink connector whose topics change keeps consuming (static group membership)', () => {
  const apps: App[] = [];
  afterAll(async () => {
    for (const app of apps) await app.stop().catch(() => undefined);
  });

  // Without a new group.instance.id per subscription the broker kept handing the task its old
  // assignment and the new topic was never consumed. Now the old static member's partitions wait
  // for its session to expire (session.timeout.ms, 20 s) before the group settles.
  it('PUT config with another topic: the new topic is consumed within the session timeout', async () => {
    const first = uniqueName('subA');
    const second = uniqueName('subB');
    await createTopic(first, 1);
    await createTopic(second, 1);
    const name = uniqueName('sink');
    const out = `${tmpDir('sub-change')}/out.jsonl`;
    const { app } = await createTestApp({});
    apps.push(app);
    await app.herder.putConfig(name, { 'connector.class': 'FileStreamSink', topics: first, file: out }, true);
    produceLines(first, 0, ['a:1']);
    await waitFor('first topic consumed', () => sinkLines(out).length === 1, { timeoutMs: 30_000 });
    await app.herder.putConfig(name, { 'connector.class': 'FileStreamSink', topics: second, file: out }, false);
    produceLines(second, 0, ['b:1']);
    const started = Date.now();
    await waitFor('second topic consumed', () => sinkLines(out).some((l) => l.topic === second), { timeoutMs: 60_000, intervalMs: 200 });
    expect(Date.now() - started).toBeLessThan(40_000);
  }, 120_000);
});
