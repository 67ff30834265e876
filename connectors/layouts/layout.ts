import type { TopicPartition } from '../../runtime/api/index.js';

/** The layouts a BackupSink writes (its `layout` setting, docs/formats.md). */
export type LayoutName = 'kafka' | 'azul';

/** A partition's offset range, inclusive: what a bundle, a claim and a range object name. The one range type. */
export interface OffsetRange {
  topic: string;
  partition: number;
  start: bigint;
  end: bigint;
}

/** What a bundle's key says it holds. */
export type BundleKey = OffsetRange;

/**
 * How a layout names the object that proves an offset range durable, so a
 * restarted task can find, by listing, what it wrote before a crash.
 */
export interface RangeKeys {
  /** Key prefix (relative to the location) of a partition's range objects. */
  prefix(tp: TopicPartition): string;
  /** The key to list after so only ranges starting at or after `offset` come back. */
  startAfter(tp: TopicPartition, offset: bigint): string;
  parse(key: string): BundleKey | undefined;
  /** The coldstore-format a range object's metadata must state. */
  format: string;
}

/** What a listed key (relative to the events location) is in a layout. */
export type ListedKey =
  /** coldstore's own descriptive objects: not part of the data. */
  | { kind: 'own' }
  /** A bundle whose key names its partition and range. */
  | { kind: 'bundle'; named: BundleKey }
  /** A bundle whose key does not carry its range: its metadata says it (azul event bundles). */
  | { kind: 'bundle-by-metadata' }
  | { kind: 'foreign' };

/** One layout, behind which the sink, the restore and the readers call whatever differs between layouts. */
export interface Layout {
  readonly name: LayoutName;
  /** Whether reports name it: `kafka`, the first layout, is left out so their JSON stays as it was. */
  readonly namedInReports: boolean;
  /** Its range objects: kafka-v1 bundles, or azul index entries. */
  readonly ranges: RangeKeys;
  /** Relative prefixes of the listings that hold a topic's data objects. */
  topicPrefixes(topic: string): string[];
  classify(key: string): ListedKey;
}
