import { partitionDirectory } from '../../layouts/kafka-v1/bundle-keys.js';
import type { BundleKey } from '../../layouts/layout.js';
import type { VerifyProblem } from './report.js';

export interface CoveredRange {
  /** Key relative to the events location. */
  key: string;
  start: bigint;
  end: bigint;
}

/**
 * Checks that one partition's bundles tile its offsets (docs/formats.md, Coverage):
 * fed in offset order, each must start right after the previous one ended. A hole
 * is a `gap` named by the bundle after it; an overlap means two bundles claim the
 * same offsets, which BackupSink never writes.
 */
export class PartitionCoverage {
  private previous: CoveredRange | undefined;

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  next(range: CoveredRange): VerifyProblem | undefined {
    const previous = this.previous;
    this.previous = range;
    if (!previous || range.start === previous.end + 1n) return undefined;
    const where = { key: range.key, topic: this.topic, partition: this.partition };
    if (range.start > previous.end + 1n) {
      return {
        kind: 'gap',
        ...where,
        message: `offsets ${previous.end + 1n}..${range.start - 1n} are missing: ${previous.key} ends at ${previous.end}, the next bundle starts at ${range.start}`,
      };
    }
    const lastTwice = range.end < previous.end ? range.end : previous.end;
    return { kind: 'inconsistent', ...where, message: `overlaps ${previous.key}: offsets ${range.start}..${lastTwice} are covered by both` };
  }
}

/** The coverage of every partition a listing meets, each fed in offset order (keys list that way within a partition). */
export class ListingCoverage {
  private readonly partitions = new Map<string, PartitionCoverage>();

  /** Partitions met so far. */
  get size(): number {
    return this.partitions.size;
  }

  next(range: BundleKey & { key: string }): VerifyProblem | undefined {
    const directory = partitionDirectory(range.topic, range.partition);
    let partition = this.partitions.get(directory);
    if (!partition) {
      partition = new PartitionCoverage(range.topic, range.partition);
      this.partitions.set(directory, partition);
    }
    return partition.next(range);
  }
}
