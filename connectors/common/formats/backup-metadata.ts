/**
 * Descriptive objects a backup keeps beside its bundles, under `~coldstore/` in the
 * events bucket (`~` cannot start a Kafka topic name, so they never collide with
 * bundle keys, and sort after them). docs/formats.md specifies them.
 */
export const METADATA_PREFIX = '~coldstore/';

/** What a restore needs to recreate a topic. */
export interface TopicMetadata {
  format: 'coldstore-topic-v1';
  topic: string;
  partitions: number;
  replicationFactor: number;
  /** Configs set on the topic itself. */
  configs: Record<string, string>;
  capturedAt: string;
}

/** Committed offsets of consumer groups on backed-up topics at one moment. */
export interface GroupOffsetsSnapshot {
  format: 'coldstore-group-offsets-v1';
  /** Milliseconds since the epoch. */
  takenAt: number;
  groups: Record<string, { topic: string; partition: number; offset: number }[]>;
}

export function topicMetadataKey(topic: string): string {
  return `${METADATA_PREFIX}topics/${topic}.json`;
}

const GROUPS_PREFIX = `${METADATA_PREFIX}group-offsets/`;
/** Larger than any millisecond timestamp for the next 270 years; 13 digits. */
const TIME_CEILING = 9_999_999_999_999;

/**
 * Snapshot keys sort newest first (the time is subtracted from a ceiling), so the
 * newest snapshot taken at or before a moment is the first key after that moment's
 * key — one listing call, however many snapshots there are.
 */
export function groupSnapshotKey(takenAt: number): string {
  return `${GROUPS_PREFIX}${String(TIME_CEILING - takenAt).padStart(13, '0')}.json`;
}

/** The listing that starts at the newest snapshot taken at or before `at`. */
export function groupSnapshotListing(at: number | undefined): { prefix: string; startAfter: string | undefined } {
  return { prefix: GROUPS_PREFIX, startAfter: at === undefined ? undefined : groupSnapshotKey(at + 1) };
}

export function parseJsonObject<T>(body: Buffer, format: string, key: string): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new Error(`${key} is not JSON: ${(err as Error).message}`);
  }
  if ((parsed as { format?: unknown })?.format !== format) throw new Error(`${key} is not a ${format} object`);
  return parsed as T;
}
