// sink.buffer.max.bytes (docs/configuration.md, operations.md): every sink task of one
// worker together keeps its open buffers under the worker's budget. Two BackupSink
// connectors, each well under its own bundle.open.max.bytes, together over the worker's
// budget: bundles close early, and every record is stored once, as produced. Real broker, local store.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBundle, type BackedUpRecord } from '../helpers/bundle-reader.js';
import { createTopic, produceLines } from '../helpers/kafka.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const CONNECTORS = 2;
const PARTITIONS = 6;
const RECORDS_PER_PARTITION = 40;
const VALUE_BYTES = 1000;
const WORKER_BUDGET_BYTES = 16 * 1024;
/** Each connector's own cap: its 240 KB of records fit, so only the worker's budget closes bundles early. */
const TASK_CAP_BYTES = 1024 * 1024;

const valueOf = (i: number) => String(i).padEnd(VALUE_BYTES, 'x');

function storedRecords(root: string, topic: string, partition: number): BackedUpRecord[] {
  const dir = join(root, 'coldstore-wbudget-events', topic, String(partition));
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.avro.gz'));
  } catch {
    return [];
  }
  return names.flatMap((n) => readBundle(`${topic}/${partition}/${n}`, readFileSync(join(dir, n))).records);
}

async function committedRecords(t: TestApp, name: string): Promise<number> {
  const offsets = (await t.app.herder.getOffsets(name)).offsets;
  return offsets.reduce((n, o) => n + Number(o.offset?.['kafka_offset'] ?? 0), 0);
}

describe('sink.buffer.max.bytes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ 'offset.flush.interval.ms': 200, 'sink.buffer.max.bytes': WORKER_BUDGET_BYTES });
  });
  afterAll(async () => {
    await t.app.stop();
  });

  it(`closes bundles early once ${CONNECTORS} connectors together hold more than the worker's budget; the backup holds every record once, as produced`, async () => {
    const backups = Array.from({ length: CONNECTORS }, () => ({
      topic: uniqueName('wbudget'),
      name: uniqueName('wbudget-backup'),
      root: tmpDir('wbudget-objects'),
    }));
    for (const { topic } of backups) {
      await createTopic(topic, PARTITIONS);
      for (let p = 0; p < PARTITIONS; p++) {
        produceLines(
          topic,
          p,
          Array.from({ length: RECORDS_PER_PARTITION }, (_, i) => `k${i}:${valueOf(i)}`),
        );
      }
    }
    // Neither count, age nor the connector's own cap would close a bundle within the test: only the worker's budget can.
    for (const { topic, name, root } of backups) {
      await t.app.herder.putConfig(
        name,
        {
          'connector.class': 'BackupSink',
          topics: topic,
          'storage.type': 'local',
          'local.root': root,
          'backup.label': 'wbudget',
          'bundle.max.records': '100000',
          'bundle.max.age.ms': '600000',
          'bundle.open.max.bytes': String(TASK_CAP_BYTES),
        },
        true,
      );
    }
    const total = CONNECTORS * PARTITIONS * RECORDS_PER_PARTITION;
    // What may stay open worker-wide: at most the budget, so all but that many records become durable.
    const mayStayOpen = Math.ceil(WORKER_BUDGET_BYTES / VALUE_BYTES);
    const durable = await waitFor(
      'all but the worker budget durable',
      async () => {
        let committed = 0;
        for (const { name } of backups) committed += await committedRecords(t, name);
        return committed >= total - mayStayOpen ? committed : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(durable).toBeGreaterThanOrEqual(total - mayStayOpen);

    // Stopping seals what stayed open; then every record is stored exactly once, with its key and value.
    for (const { name } of backups) await t.app.herder.setTarget(name, 'STOPPED');
    for (const { topic, name, root } of backups) {
      expect(await committedRecords(t, name), name).toBe(PARTITIONS * RECORDS_PER_PARTITION);
      for (let p = 0; p < PARTITIONS; p++) {
        const stored = storedRecords(root, topic, p).sort((a, b) => Number(a.offset - b.offset));
        expect(
          stored.map((r) => Number(r.offset)),
          `${topic}/${p}`,
        ).toEqual(Array.from({ length: RECORDS_PER_PARTITION }, (_, i) => i));
        for (const r of stored) {
          expect(r.key?.toString(), `${topic}/${p}@${r.offset}`).toBe(`k${r.offset}`);
          expect(r.value?.toString(), `${topic}/${p}@${r.offset}`).toBe(valueOf(Number(r.offset)));
        }
      }
    }
  }, 120_000);
});
