/**
 * Kafka going away and coming back, as GET /ready and GET / see it (docs/operations.md,
 * Probes): a private broker (its own cluster id, formatted for this test) is killed and
 * started again under a running worker.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestApp, readyUntil, type TestApp } from '../helpers/test-app.js';
import { tmpDir } from '../helpers/tmp.js';
import { PrivateKafka } from './private-kafka.js';

describe('readiness through a Kafka outage', () => {
  let kafka: PrivateKafka | undefined;
  let t: TestApp | undefined;
  afterAll(async () => {
    await t?.app.stop();
    await kafka?.stop();
  });

  it("GET / names the broker's cluster id; /ready is 503 naming kafka while the broker is down, 200 once it is back", async () => {
    const dir = tmpDir('ready-kafka');
    kafka = await PrivateKafka.create(dir);
    await kafka.start();
    // The id the broker's storage was formatted with (kafka-storage format -t), a fresh random one.
    const clusterId = /^cluster\.id=(.+)$/m.exec(readFileSync(join(dir, 'data', 'meta.properties'), 'utf8'))?.[1];
    expect(clusterId).toMatch(/^[A-Za-z0-9_-]{22}$/);

    t = await createTestApp({ 'bootstrap.servers': kafka.bootstrap });
    const root = await t.call('GET', '/');
    expect(root.status).toBe(200);
    expect(root.body.kafka_cluster_id).toBe(clusterId);
    await readyUntil(t, 'ready with the broker up', (r) => r.status === 200, 90_000);

    await kafka.stop('SIGKILL');
    const down = await readyUntil(t, '503 with the broker down', (r) => r.status === 503, 90_000);
    expect(down.body.checks.kafka.ok).toBe(false);
    expect(down.body.checks.kafka.message).toMatch(/metadata|Kafka/);
    expect(down.body.checks.worker).toEqual({ ok: true });
    expect(down.body.checks.tasks.ok).toBe(true);
    // The id stays known while the broker is away.
    expect((await t.call('GET', '/')).body.kafka_cluster_id).toBe(clusterId);

    await kafka.start();
    const back = await readyUntil(t, '200 once the broker is back', (r) => r.status === 200, 90_000);
    expect(back.body.checks.kafka).toEqual({ ok: true });
    expect((await t.call('GET', '/')).body.kafka_cluster_id).toBe(clusterId);
  }, 300_000);
});
