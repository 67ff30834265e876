import type { Message } from '@confluentinc/kafka-javascript';
import type { RecordHeader, SinkRecord } from '../api/records.js';

/**
 * Converts the client's message object into the connector API's record.
 * The native binding does not expose the timestamp type nor null header values
 * (a null header value arrives as an empty buffer); see docs/delivery-guarantees.md.
 */
export function toSinkRecord(message: Message): SinkRecord {
  const headers: RecordHeader[] = [];
  for (const header of message.headers ?? []) {
    for (const key of Object.keys(header)) {
      const value = header[key];
      headers.push({ key, value: value === undefined || value === null ? null : typeof value === 'string' ? Buffer.from(value) : value });
    }
  }
  const timestamp = message.timestamp ?? -1;
  return {
    topic: message.topic,
    partition: message.partition,
    offset: BigInt(message.offset),
    timestamp,
    timestampType: timestamp >= 0 ? 'CREATE_TIME' : 'NOT_AVAILABLE',
    key: message.key === undefined || message.key === null ? null : typeof message.key === 'string' ? Buffer.from(message.key) : message.key,
    value: message.value ?? null,
    headers,
  };
}
