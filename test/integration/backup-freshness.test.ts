import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaProducer } from '../../runtime/kafka/producer.js';
import { bootstrap, createTopic } from '../helpers/kafka.js';
import { s3Settings } from '../helpers/s3.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

// docs/delivery-guarantees.md: a record is durable (its offset committed) within
// bundle.max.age.ms + offset.flush.interval.ms + one upload, whatever the record rate.
const BUNDLE_AGE_MS = 2_000;
const FLUSH_INTERVAL_MS = 1_000;
const UPLOAD_ALLOWANCE_MS = 2_000;
const BOUND_MS = BUNDLE_AGE_MS + FLUSH_INTERVAL_MS + UPLOAD_ALLOWANCE_MS;
const PRODUCE_MS = 16_000;

interface Scenario {
  name: string;
  recordsPerSecond: number;
  partitions: number;
  topic: string;
  connector: string;
  /** When each offset was handed to the producer, per partition. */
  sentAt: number[][];
  maxUndurableAgeMs: number;
}

const scenarios: Scenario[] = [
  { name: 'a trickle, 2 records/s into one partition', recordsPerSecond: 2, partitions: 1 },
  { name: '25 records/s into one partition', recordsPerSecond: 25, partitions: 1 },
  { name: '25 records/s into four partitions', recordsPerSecond: 25, partitions: 4 },
  { name: '500 records/s into four partitions', recordsPerSecond: 500, partitions: 4 },
].map((s) => ({
  ...s,
  topic: uniqueName('fresh'),
  connector: uniqueName('fresh-backup'),
  sentAt: Array.from({ length: s.partitions }, () => []),
  maxUndurableAgeMs: 0,
}));

type StatusPartition = { topic: string; partition: number; committed_offset: number | null };

/** Committed offsets per partition, from the connector's status (what an operator sees). */
async function committedOffsets(worker: TestApp, connector: string): Promise<Map<number, number>> {
  const reply = await worker.call('GET', `/connectors/${connector}/status`);
  const found = new Map<number, number>();
  for (const task of reply.body?.tasks ?? []) {
    for (const p of (task.progress?.partitions ?? []) as StatusPartition[]) if (p.committed_offset !== null) found.set(p.partition, p.committed_offset);
  }
  return found;
}

async function ownedPartitions(worker: TestApp, connector: string): Promise<number> {
  const reply = await worker.call('GET', `/connectors/${connector}/status`);
  return (reply.body?.tasks ?? []).reduce((n: number, t: { progress?: { partitions?: unknown[] } }) => n + (t.progress?.partitions?.length ?? 0), 0);
}

function recordsToProduce(scenario: Scenario): number {
  return (scenario.recordsPerSecond * PRODUCE_MS) / 1000;
}

/**
 * Produces a fixed number of records at a steady rate, spread round-robin over the
 * partitions, recording when each offset was sent. Bounded by count, not by a clock: a
 * late timer only delays the last records, it never drops them from the run.
 */
async function produceAtRate(producer: KafkaProducer, scenario: Scenario): Promise<void> {
  const intervalMs = 1000 / scenario.recordsPerSecond;
  const acks: Promise<unknown>[] = [];
  const started = Date.now();
  for (let i = 0; i < recordsToProduce(scenario); i++) {
    const due = started + i * intervalMs;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    const partition = i % scenario.partitions;
    const sentAt = Date.now();
    acks.push(
      producer.send({ topic: scenario.topic, partition, key: Buffer.from(`k${i}`), value: Buffer.from(`record ${i} at ${sentAt}`) }).then((d) => {
        scenario.sentAt[partition]![Number(d.offset)] = sentAt;
      }),
    );
  }
  await Promise.all(acks);
}

/** The age of the oldest record sent but not yet durable, over every partition. */
function oldestUndurableAgeMs(scenario: Scenario, committed: Map<number, number>, now: number): number {
  let oldest = 0;
  scenario.sentAt.forEach((sent, partition) => {
    const first = committed.get(partition) ?? 0;
    const sentAt = sent[first];
    if (sentAt !== undefined) oldest = Math.max(oldest, now - sentAt);
  });
  return oldest;
}

describe('backup freshness: durable within bundle age + flush interval + one upload, at any rate (real broker, S3Proxy)', () => {
  let worker: TestApp;
  let producer: KafkaProducer;
  let backupByIdMs = Number.NaN;

  beforeAll(async () => {
    worker = await createTestApp({ 'offset.flush.interval.ms': FLUSH_INTERVAL_MS });
    producer = new KafkaProducer({ bootstrapServers: bootstrap(), extra: {} }, 'coldstore-test-freshness', { 'linger.ms': 0 });
    await producer.connect();
    for (const s of scenarios) {
      await createTopic(s.topic, s.partitions);
      const label = s.connector.toLowerCase().replace(/[^a-z0-9-]/g, '');
      const created = await worker.call('POST', '/connectors', {
        name: s.connector,
        config: { 'connector.class': 'BackupSink', topics: s.topic, ...s3Settings(), 'backup.label': label, 'bundle.max.age.ms': String(BUNDLE_AGE_MS) },
      });
      expect(created.status, created.text).toBe(201);
    }
    for (const s of scenarios) await waitFor(`${s.connector} owning its partitions`, async () => (await ownedPartitions(worker, s.connector)) === s.partitions);

    let allAcknowledged = false;
    const producing = Promise.all(scenarios.map((s) => produceAtRate(producer, s))).finally(() => (allAcknowledged = true));
    const steady = scenarios[1]!;
    let backupRequestedAt = 0;
    const backupTimer = setTimeout(() => {
      backupRequestedAt = Date.now();
      void worker.call('POST', '/backups/1');
    }, PRODUCE_MS / 2);
    let producedAt = Number.POSITIVE_INFINITY;
    while (Date.now() < producedAt + 1_000) {
      if (allAcknowledged && producedAt === Number.POSITIVE_INFINITY) producedAt = Date.now();
      const now = Date.now();
      for (const s of scenarios) s.maxUndurableAgeMs = Math.max(s.maxUndurableAgeMs, oldestUndurableAgeMs(s, await committedOffsets(worker, s.connector), now));
      if (backupRequestedAt > 0 && Number.isNaN(backupByIdMs)) {
        const reply = await worker.call('GET', '/backups/1');
        if (reply.body?.status === 'COMPLETED') backupByIdMs = Date.now() - backupRequestedAt;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    clearTimeout(backupTimer);
    await producing;
    expect(steady.sentAt[0]!.length).toBeGreaterThan(0);
  }, 120_000);

  afterAll(async () => {
    console.info(`freshness: ${scenarios.map((s) => `${s.name} ${s.maxUndurableAgeMs} ms`).join('; ')}; backup by id ${backupByIdMs} ms`);
    await producer?.disconnect();
    await worker?.app.stop();
  });

  for (const s of scenarios) {
    it(`${s.name}: the oldest record not yet durable is never older than ${BOUND_MS} ms`, () => {
      const produced = s.sentAt.reduce((n, sent) => n + sent.filter((t) => t !== undefined).length, 0);
      expect(produced).toBe(recordsToProduce(s));
      expect(s.maxUndurableAgeMs, `max age of an undurable record, ${s.name}`).toBeLessThanOrEqual(BOUND_MS);
    });
  }

  it(`a backup by id taken under a steady trickle completes within ${BOUND_MS} ms of its request`, () => {
    expect(backupByIdMs).toBeLessThanOrEqual(BOUND_MS);
  });
});
