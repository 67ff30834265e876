import type { TopicPartition } from '../../runtime/api/index.js';
import type { Location } from '../common/backup-location.js';
import type { BackedUpRecord } from '../layouts/kafka-v1/bundle-codec.js';
import type { ObjectStore } from '../common/object-store/object-store.js';
import type { BadObjectError } from './bad-object.js';
import type { FetchedBundle } from './bundle-fetch.js';
import { withinTimestamp, type PartitionBounds } from './partition-bounds.js';
import { PartitionReader } from './partition-reader.js';

/** Where a partition's restore stopped in an earlier run: the bundle (key without location prefix) and the last record offset. */
export interface ResumePoint {
  key: string;
  offset: bigint;
}

export interface CursorOptions {
  store: ObjectStore;
  location: Location;
  tp: TopicPartition;
  bounds: PartitionBounds;
  resume?: ResumePoint | undefined;
  /** The bundles to read (a backup by id's manifest), instead of listing the partition. */
  objects?: readonly { key: string; sha256: string }[] | undefined;
  fetchAhead: number;
  /** Follow mode: how long a bundle is held behind a gap (ReaderOptions.gapWaitMs). */
  gapWaitMs?: number;
  /** Follow mode: where the partition's backup starts (ReaderOptions.expectedFirst). */
  expectedFirst?: bigint | undefined;
  onBadObject: (err: BadObjectError) => void;
}

/** A slice of one bundle's records, with the bundle's key (without location prefix) for their source offsets. */
export interface RecordSlice {
  key: string;
  records: BackedUpRecord[];
}

/**
 * One partition's place in its restore: the bundle being handed out and how far, over
 * a reader bounded by the partition's offsets; the timestamp bound is applied here, to
 * each bundle as it arrives.
 */
export class PartitionCursor {
  /** Shared by every record of the partition, so the delivery hook can tell runs of one partition by identity. */
  readonly sourcePartition: { topic: string; partition: number };
  private readonly reader: PartitionReader;
  private bundle: FetchedBundle | undefined;
  private position = 0;

  constructor(private readonly options: CursorOptions) {
    const { tp, bounds, resume, objects } = options;
    this.sourcePartition = { topic: tp.topic, partition: tp.partition };
    this.reader = new PartitionReader({
      ...(objects ? { objects } : {}),
      store: options.store,
      location: options.location,
      tp,
      ...(resume ? { resume } : {}),
      ...(bounds.untilOffset !== undefined ? { untilOffset: bounds.untilOffset } : {}),
      ...(bounds.fromOffset !== undefined ? { fromOffset: bounds.fromOffset } : {}),
      fetchAhead: options.fetchAhead,
      ...(options.gapWaitMs !== undefined ? { gapWaitMs: options.gapWaitMs } : {}),
      ...(options.expectedFirst !== undefined ? { expectedFirst: options.expectedFirst } : {}),
      onBadObject: options.onBadObject,
    });
  }

  get tp(): TopicPartition {
    return this.options.tp;
  }

  /** Whether every record of the current bundle (if any) is handed out. */
  get needsBundle(): boolean {
    return !this.bundle || this.position >= this.bundle.records.length;
  }

  /** Moves to the next bundle; returns it as read (its bytes count as read even when the bounds leave no record), or undefined when the partition is done. */
  async nextBundle(): Promise<FetchedBundle | undefined> {
    const bundle = await this.reader.next();
    if (!bundle) return undefined;
    this.bundle = { ...bundle, records: withinTimestamp(bundle.records, this.options.bounds) };
    this.position = 0;
    return bundle;
  }

  /** The reader, for what follow mode asks of it (relist, the newest listed bundle, a gap held). */
  get follow(): Pick<PartitionReader, 'relist' | 'newestListedEnd' | 'waitingForGap'> {
    return this.reader;
  }

  /** Up to `max` more records of the current bundle. */
  take(max: number): RecordSlice {
    const bundle = this.bundle!;
    const records = bundle.records.slice(this.position, this.position + max);
    this.position += records.length;
    // A follower keeps its cursors for good: a handed-out bundle is not kept decoded until the next one lands.
    if (this.position >= bundle.records.length) this.bundle = undefined;
    return { key: bundle.key.slice(this.options.location.prefix.length), records };
  }
}
