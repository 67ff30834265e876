import { START_OF_PARTITION } from '../api/records.js';

/** Stored for a partition whose offset was reset: start from the earliest offset, ignoring the consumer group. */
export const EARLIEST = 'earliest';

/** The stored form of a sink offset: the next offset to consume as a decimal string, or EARLIEST. */
export function storedSinkOffset(value: unknown): bigint | undefined {
  if (value === EARLIEST) return START_OF_PARTITION;
  return typeof value === 'string' && /^\d+$/.test(value) ? BigInt(value) : undefined;
}
