import type { RecordHeader, SinkRecord, TimestampType } from '../api/records.js';

/** librdkafka's timestamp types, reported by the patched binding (scripts/patch-kafka-client.sh). */
const TIMESTAMP_TYPES: readonly TimestampType[] = ['NOT_AVAILABLE', 'CREATE_TIME', 'LOG_APPEND_TIME'];

/** Numbers the patched binding's packed consume gives each message before its headers. */
const SLOTS_PER_MESSAGE = 8;

/**
 * Turns the patched binding's packed batch (`consumePacked`: every key, value and header
 * of the batch in `data`, described by `numbers`; see the patch's
 * KafkaConsumerConsumeNum::HandlePackedCallback) into records whose buffers are views
 * of `data`. A length of -1 is null, so null stays apart from empty.
 */
export function unpackRecords(data: Buffer, numbers: Float64Array, topics: readonly string[]): SinkRecord[] {
  const records: SinkRecord[] = [];
  let at = 0;
  const take = (length: number): Buffer | null => {
    if (length < 0) return null;
    const view = data.subarray(at, at + length);
    at += length;
    return view;
  };
  for (let slot = 0; slot < numbers.length;) {
    const partition = numbers[slot]!;
    const offset = numbers[slot + 1]!;
    const timestamp = numbers[slot + 2]!;
    const timestampType = TIMESTAMP_TYPES[numbers[slot + 3]!] ?? 'NOT_AVAILABLE';
    const topic = topics[numbers[slot + 4]!]!;
    const key = take(numbers[slot + 5]!);
    const value = take(numbers[slot + 6]!);
    const headerCount = numbers[slot + 7]!;
    slot += SLOTS_PER_MESSAGE;
    const headers: RecordHeader[] = [];
    for (let h = 0; h < headerCount; h++, slot += 2) {
      const nameLength = numbers[slot]!;
      const name = data.toString('utf8', at, at + nameLength);
      at += nameLength;
      headers.push({ key: name, value: take(numbers[slot + 1]!) });
    }
    records.push({ topic, partition, offset: BigInt(offset), timestamp, timestampType, key, value, headers });
  }
  return records;
}
