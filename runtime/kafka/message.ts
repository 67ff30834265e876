import type { Message } from '@confluentinc/kafka-javascript';
import type { RecordHeader, SinkRecord, TimestampType } from '../api/records.js';

/** librdkafka's timestamp types, reported by the patched binding (scripts/patch-kafka-client.sh). */
const TIMESTAMP_TYPES: Record<number, TimestampType> = { 0: 'NOT_AVAILABLE', 1: 'CREATE_TIME', 2: 'LOG_APPEND_TIME' };

/** Converts the client's message object into the connector API's record, keeping null apart from empty. */
export function toSinkRecord(message: Message): SinkRecord {
  const headers: RecordHeader[] = [];
  for (const header of message.headers ?? []) {
    for (const key of Object.keys(header)) {
      const value = header[key];
      headers.push({ key, value: value === undefined || value === null ? null : typeof value === 'string' ? Buffer.from(value) : value });
    }
  }
  const timestamp = message.timestamp ?? -1;
  const type = (message as Message & { timestampType?: number }).timestampType;
  return {
    topic: message.topic,
    partition: message.partition,
    offset: BigInt(message.offset),
    timestamp,
    timestampType: TIMESTAMP_TYPES[type ?? 0] ?? 'NOT_AVAILABLE',
    key: message.key === undefined || message.key === null ? null : typeof message.key === 'string' ? Buffer.from(message.key) : message.key,
    value: message.value ?? null,
    headers,
  };
}
