// bundle.open.max.bytes (docs/configuration.md, delivery-guarantees.md): the open bundles
// of a task's partitions together stay under a budget; past it the largest close early,
// so memory does not grow with partitions × bundle size. Real broker, local store.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBundle } from '../helpers/bundle-reader.js';
import { createTopic, produceLines } from '../helpers/kafka.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const PARTITIONS = 12;
const RECORDS_PER_PARTITION = 40;
const VALUE_BYTES = 1000;
const BUDGET_BYTES = 16 * 1024;

function storedOffsets(root: string, bucket: string, topic: string, partition: number): number[] {
  const dir = join(root, bucket, topic, String(partition));
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.avro.gz'));
  } catch {
    return [];
  }
  return names.flatMap((n) => readBundle(`${topic}/${partition}/${n}`, readFileSync(join(dir, n))).records.map((r) => Number(r.offset)));
}

describe('bundle.open.max.bytes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ 'offset.flush.interval.ms': 200 });
  });
  afterAll(async () => {
    await t.app.stop();
  });

  it(`closes the largest open bundles early once ${PARTITIONS} partitions together hold more than the budget; every record once`, async () => {
    const topic = uniqueName('budget');
    const name = uniqueName('budget-backup');
    const root = tmpDir('budget-objects');
    await createTopic(topic, PARTITIONS);
    for (let p = 0; p < PARTITIONS; p++) {
      produceLines(
        topic,
        p,
        Array.from({ length: RECORDS_PER_PARTITION }, (_, i) => `k${i}:${String(i).padEnd(VALUE_BYTES, 'x')}`),
      );
    }
    // Neither count nor age would close a bundle within the test: only the budget can.
    await t.app.herder.putConfig(
      name,
      {
        'connector.class': 'BackupSink',
        topics: topic,
        'storage.type': 'local',
        'local.root': root,
        'backup.label': 'budget',
        'bundle.max.records': '100000',
        'bundle.max.age.ms': '600000',
        'bundle.open.max.bytes': String(BUDGET_BYTES),
      },
      true,
    );
    const total = PARTITIONS * RECORDS_PER_PARTITION;
    // What may stay open: at most the budget, so all but that many records become durable.
    const mayStayOpen = Math.ceil(BUDGET_BYTES / VALUE_BYTES);
    const durable = await waitFor(
      'all but the budget durable',
      async () => {
        const offsets = (await t.app.herder.getOffsets(name)).offsets;
        const committed = offsets.reduce((n, o) => n + Number(o.offset?.['kafka_offset'] ?? 0), 0);
        return committed >= total - mayStayOpen ? committed : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(durable).toBeGreaterThanOrEqual(total - mayStayOpen);

    // Stored exactly once: no offset twice, and every offset below what is committed is there.
    const offsets = (await t.app.herder.getOffsets(name)).offsets;
    for (let p = 0; p < PARTITIONS; p++) {
      const stored = storedOffsets(root, 'coldstore-budget-events', topic, p).sort((a, b) => a - b);
      expect(new Set(stored).size, `partition ${p}`).toBe(stored.length);
      const committed = Number(offsets.find((o) => o.partition?.['kafka_partition'] === p)?.offset?.['kafka_offset']);
      expect(committed, `partition ${p}`).toBeGreaterThan(0);
      expect(stored.slice(0, committed), `partition ${p}`).toEqual(Array.from({ length: committed }, (_, i) => i));
    }
  }, 90_000);
});
