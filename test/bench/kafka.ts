/** Topics for the bench: pre-filled (and reused while they hold exactly what is expected), created, deleted. */
import KafkaLib from '@confluentinc/kafka-javascript';
import type { DeliveryReport, LibrdKafkaError } from '@confluentinc/kafka-javascript';
import { KafkaAdmin } from '../../runtime/kafka/admin.js';
import { recordKey, recordValue, topicBytes, type RecordKind } from './records.js';

const { Producer, AdminClient, CODES } = KafkaLib;

/** A topic holding `perPartition` generated records of `kind` in each partition, offsets 0..perPartition-1. */
export interface FilledTopic {
  topic: string;
  kind: RecordKind;
  partitions: number;
  perPartition: number;
  records: number;
  /** Key + value bytes of all its records. */
  bytes: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function admin(bootstrap: string): KafkaAdmin {
  return new KafkaAdmin({ bootstrapServers: bootstrap, extra: {} }, 'coldstore-bench-admin');
}

export async function createTopic(bootstrap: string, topic: string, partitions: number): Promise<void> {
  const a = admin(bootstrap);
  try {
    await a.createTopic(topic, partitions);
  } finally {
    a.disconnect();
  }
}

export async function deleteTopic(bootstrap: string, topic: string): Promise<void> {
  const client = AdminClient.create({ 'bootstrap.servers': bootstrap, 'client.id': 'coldstore-bench-admin' });
  try {
    await new Promise<void>((resolve, reject) =>
      client.deleteTopic(topic, 30_000, (err) => (err && err.code !== CODES.ERRORS.ERR_UNKNOWN_TOPIC_OR_PART ? reject(err) : resolve())),
    );
  } finally {
    client.disconnect();
  }
}

/** Each partition's [start, end) offsets; undefined when the topic does not exist. */
async function bounds(bootstrap: string, topic: string): Promise<{ partitions: number; start: bigint[]; end: bigint[] } | undefined> {
  const a = admin(bootstrap);
  try {
    const described = await a.describeTopic(topic);
    if (!described) return undefined;
    const found = await a.partitionBounds(Array.from({ length: described.partitions }, (_, partition) => ({ topic, partition })));
    found.sort((x, y) => x.partition - y.partition);
    return { partitions: described.partitions, start: found.map((b) => b.start), end: found.map((b) => b.end) };
  } finally {
    a.disconnect();
  }
}

/** Each partition's end offset (what a backup of the whole topic must reach). */
export async function endOffsets(bootstrap: string, topic: string, partitions: number): Promise<bigint[]> {
  const a = admin(bootstrap);
  try {
    const ends = await a.endOffsets(topic, partitions);
    return Array.from({ length: partitions }, (_, p) => ends.get(p) ?? 0n);
  } finally {
    a.disconnect();
  }
}

/** Waits until the broker lists the topic with all its partitions (creation is asynchronous). */
async function waitForTopic(bootstrap: string, topic: string, partitions: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const b = await bounds(bootstrap, topic).catch(() => undefined);
    if (b && b.partitions === partitions) return;
    await sleep(200);
  }
  throw new Error(`topic ${topic} did not appear with ${partitions} partitions`);
}

/**
 * Returns a topic holding exactly the generated records, reusing it when an earlier run
 * (of this bench or a previous one) left it complete; otherwise it is recreated and
 * filled by a producer tuned for speed (big batches, linger, no compression).
 */
export async function ensureFilledTopic(
  bootstrap: string,
  kind: RecordKind,
  partitions: number,
  records: number,
  log: (line: string) => void,
): Promise<FilledTopic> {
  const perPartition = Math.floor(records / partitions);
  if (perPartition * partitions !== records) throw new Error(`${records} records do not divide into ${partitions} partitions`);
  const topic = `coldstore-bench-${kind}-p${partitions}-n${records}-v1`;
  const filled: FilledTopic = { topic, kind, partitions, perPartition, records, bytes: topicBytes(partitions, perPartition) };
  const existing = await bounds(bootstrap, topic);
  if (existing && existing.partitions === partitions && existing.start.every((s) => s === 0n) && existing.end.every((e) => e === BigInt(perPartition))) {
    log(`reusing ${topic} (${records} records)`);
    return filled;
  }
  if (existing) {
    log(`${topic} is incomplete; recreating it`);
    await deleteTopic(bootstrap, topic);
    for (let i = 0; i < 50 && (await bounds(bootstrap, topic).catch(() => undefined)); i++) await sleep(200);
  }
  await createTopic(bootstrap, topic, partitions);
  await waitForTopic(bootstrap, topic, partitions);
  const started = performance.now();
  await fill(bootstrap, filled);
  const seconds = (performance.now() - started) / 1000;
  log(`filled ${topic}: ${records} records, ${(filled.bytes / 1e6).toFixed(0)} MB in ${seconds.toFixed(1)} s`);
  const after = await bounds(bootstrap, topic);
  if (!after || !after.end.every((e) => e === BigInt(perPartition))) throw new Error(`${topic} did not receive exactly ${perPartition} records per partition`);
  return filled;
}

async function fill(bootstrap: string, t: FilledTopic): Promise<void> {
  const producer = new Producer({
    'bootstrap.servers': bootstrap,
    'client.id': 'coldstore-bench-prefill',
    'compression.type': 'none',
    'linger.ms': 50,
    'batch.num.messages': 100_000,
    'batch.size': 1_000_000,
    'queue.buffering.max.messages': 200_000,
    'queue.buffering.max.kbytes': 1_048_576,
    'enable.idempotence': true,
    dr_cb: true,
  });
  let delivered = 0;
  let failure: Error | undefined;
  producer.on('delivery-report', (err: LibrdKafkaError, _report: DeliveryReport) => {
    if (err) failure ??= new Error(`pre-fill delivery failed: ${err.message}`);
    delivered++;
  });
  await new Promise<void>((resolve, reject) => producer.connect({ timeout: 30_000 }, (err) => (err ? reject(err) : resolve())));
  producer.setPollInterval(25);
  try {
    // Round-robin over partitions, so partition p holds records (p, 0), (p, 1), … at offsets 0, 1, …
    for (let index = 0; index < t.perPartition; index++) {
      for (let partition = 0; partition < t.partitions; partition++) {
        const value = recordValue(t.kind, partition, index);
        const key = recordKey(partition, index);
        for (;;) {
          try {
            producer.produce(t.topic, partition, value, key, null);
            break;
          } catch (err) {
            if ((err as { code?: number }).code !== CODES.ERRORS.ERR__QUEUE_FULL) throw err;
            await sleep(10);
          }
        }
      }
      if (failure) throw failure;
    }
    await new Promise<void>((resolve, reject) => producer.flush(120_000, (err) => (err ? reject(err) : resolve())));
    const deadline = Date.now() + 60_000;
    while (delivered < t.records && Date.now() < deadline) await sleep(50);
    if (failure) throw failure;
    if (delivered < t.records) throw new Error(`pre-fill: only ${delivered} of ${t.records} records acknowledged`);
  } finally {
    await new Promise<void>((resolve) => producer.disconnect(() => resolve()));
  }
}
