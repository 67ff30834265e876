import { KeptRecords, type OpenBundle, type SealedBundle } from '../../connectors/backup-sink/partition-writer.js';
import { OpenKafkaBundle } from '../../connectors/layouts/kafka-v1/open-bundle.js';
import type { SinkRecord } from '../../runtime/api/index.js';

function sealed<Body extends OpenBundle>(body: Body, records: readonly SinkRecord[], range?: { start: bigint; end: bigint }): SealedBundle<Body> {
  for (const record of records) body.add(record);
  const { topic, partition } = records[0]!;
  return {
    topic,
    partition,
    start: range?.start ?? records[0]!.offset,
    end: range?.end ?? records.at(-1)!.offset,
    body,
    records: records.length,
    bytes: records.reduce((n, r) => n + (r.key?.length ?? 0) + (r.value?.length ?? 0), 0),
  };
}

/** A kafka-layout bundle of these records, as PartitionWriter seals it (range: first to last offset unless given). */
export function sealedKafkaBundle(records: readonly SinkRecord[], range?: { start: bigint; end: bigint }): SealedBundle<OpenKafkaBundle> {
  return sealed(new OpenKafkaBundle(), records, range);
}

/** An azul-layout bundle: the records kept whole. */
export function sealedKeptBundle(records: readonly SinkRecord[], range?: { start: bigint; end: bigint }): SealedBundle<KeptRecords> {
  return sealed(new KeptRecords(), records, range);
}
