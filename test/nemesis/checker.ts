/**
 * What the nemesis proves once the faults are over, with readers independent of the code
 * under test: the broker against the ledger, then each backup against the broker (every
 * committed record exactly once, byte for byte, bundles tiling each partition with no
 * overlap), and each restored topic against its source (every record once, in order, for
 * read_committed readers).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { readPartitions, type BrokerRecord } from '../helpers/broker-records.js';
import { fetchObjects, listKeys } from '../helpers/s3.js';
import type { BucketReader } from '../faults/azul-proof.js';
import { proveExactlyOnce, recordDifferences, sleep, type ExactlyOnceReport } from '../faults/fault-kit.js';
import { fetchBundles } from '../faults/zombie-kit.js';
import { restoredProblems, type Ledger } from './ledger.js';

export interface TopicShape {
  name: string;
  partitions: number;
}

/**
 * Every record of these topics a read_committed reader sees, to the end of each partition;
 * with a ledger, at least the records it says were acknowledged (the markers of the last
 * transaction may land just after its commit returned), else it throws.
 */
export async function readTopics(bootstrap: string, topics: readonly TopicShape[], ledger?: Ledger): Promise<Map<string, BrokerRecord[]>> {
  const acknowledged = (topic: string, partition: number) =>
    ledger?.of(topic).filter((e) => e.partition === partition && e.fate === 'acknowledged').length ?? 0;
  const wanted = topics.flatMap((t) =>
    Array.from({ length: t.partitions }, (_, partition) => ({ topic: t.name, partition, count: acknowledged(t.name, partition) })),
  );
  const all = await readPartitions(wanted, bootstrap);
  const short = wanted.filter((w) => all.filter((r) => r.topic === w.topic && r.partition === w.partition).length < w.count);
  if (short.length > 0) throw new Error(`read fewer records than were acknowledged from ${short.map((w) => `${w.topic}/${w.partition}`).join(', ')}`);
  return new Map(topics.map((t) => [t.name, all.filter((r) => r.topic === t.name)]));
}

/** The offsets a connector committed, by `topic/partition`: from the first worker that answers within 2 s (a cut-off one never does). */
export async function committedOffsets(workers: readonly { worker: { url: string } }[], connector: string): Promise<Map<string, number>> {
  for (const { worker } of workers) {
    const answer = await fetch(`${worker.url}/connectors/${connector}/offsets`, { signal: AbortSignal.timeout(2_000) })
      .then(async (res) => (res.status === 200 ? ((await res.json()) as { offsets?: OffsetEntry[] }) : undefined))
      .catch(() => undefined);
    if (!answer) continue;
    const out = new Map<string, number>();
    for (const e of answer.offsets ?? []) if (e.offset) out.set(`${e.partition.kafka_topic}/${e.partition.kafka_partition}`, Number(e.offset.kafka_offset));
    return out;
  }
  throw new Error(`no worker answered GET /connectors/${connector}/offsets`);
}

interface OffsetEntry {
  partition: { kafka_topic: string; kafka_partition: number };
  offset: { kafka_offset: number } | null;
}

/** The partitions whose last committed record a sink connector has not committed past yet ([] when caught up). */
export async function behind(workers: readonly { worker: { url: string } }[], connector: string, truth: readonly BrokerRecord[]): Promise<string[]> {
  const needed = new Map<string, bigint>();
  for (const r of truth) needed.set(`${r.topic}/${r.partition}`, r.offset + 1n);
  const committed = await committedOffsets(workers, connector).catch(() => new Map<string, number>());
  return [...needed]
    .filter(([where, end]) => BigInt(committed.get(where) ?? -1) < end)
    .map(([where, end]) => `${where} at ${committed.get(where) ?? 'none'} of ${end}`);
}

/** Waits until `done` says nothing is left, up to `timeoutMs`; returns what was left last. */
export async function untilNothingLeft(what: string, left: () => Promise<string[]>, timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let last: string[] = [what];
  while (Date.now() < deadline) {
    last = await left().catch((err: Error) => [`${what}: ${err.message}`]);
    if (last.length === 0) return [];
    await sleep(2_000);
  }
  return last;
}

/** The kafka-v1 backup of each topic proven against the broker's records. */
export async function proveBackup(
  client: S3Client,
  bucket: string,
  topics: readonly TopicShape[],
  truth: Map<string, BrokerRecord[]>,
): Promise<Map<string, ExactlyOnceReport>> {
  const objects = await fetchBundles(client, bucket);
  return new Map(
    topics.map((t) => [
      t.name,
      proveExactlyOnce(
        t.name,
        t.partitions,
        objects.filter((o) => o.key.startsWith(`${t.name}/`)),
        truth.get(t.name) ?? [],
        recordDifferences,
      ),
    ]),
  );
}

/** Waits until each restored topic holds at least as many records as its source, then compares them. */
export async function proveRestored(
  bootstrap: string,
  pairs: readonly { source: TopicShape; restored: string }[],
  truth: Map<string, BrokerRecord[]>,
  timeoutMs: number,
): Promise<Map<string, ReturnType<typeof restoredProblems>>> {
  const shapes = pairs.map((p) => ({ name: p.restored, partitions: p.source.partitions }));
  await untilNothingLeft(
    'restored topics caught up',
    async () => {
      const restored = await readTopics(bootstrap, shapes);
      return pairs.filter((p) => (restored.get(p.restored)?.length ?? 0) < (truth.get(p.source.name)?.length ?? 0)).map((p) => p.restored);
    },
    timeoutMs,
  );
  await sleep(3_000); // a late duplicate would show now
  const restored = await readTopics(bootstrap, shapes);
  return new Map(pairs.map((p) => [p.restored, restoredProblems(truth.get(p.source.name) ?? [], restored.get(p.restored) ?? [], p.source.partitions)]));
}

/** Reads a bucket of the test's own S3 server back (for the azul checker). */
export function bucketReader(client: S3Client): BucketReader {
  return {
    keys: (bucket, prefix) => listKeys(client, bucket, prefix),
    objects: (bucket, wanted) => fetchObjects(client, bucket, '', wanted),
  };
}
