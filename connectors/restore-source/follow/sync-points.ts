import type { RecordPlacement, SourceOffsetEntry, SourceRecord } from '../../../runtime/api/index.js';

/**
 * A run of restored records whose offsets both follow one another: `count` records from
 * source offset `source` landed from target offset `target` on (same partition number).
 * `seq` numbers a partition's segments; the newest PERSISTED of them are kept in the
 * connector's offsets, each under the slot `seq % PERSISTED`.
 */
interface Segment {
  source: bigint;
  target: bigint;
  count: bigint;
  seq: number;
}

/** Segments kept in memory per partition (the oldest go first); a compacted or transactional primary makes more of them. */
const MAX_SEGMENTS = 4_096;
/** Segments persisted per partition, so a restarted task still translates offsets a little behind where it stopped. */
const PERSISTED = 64;
const KIND = 'sync';

const num = (value: unknown): bigint => BigInt(value as number);

/**
 * Where restored records landed on the standby, per source partition: what a backed-up
 * consumer-group offset is translated with. Records of a partition land in order in the
 * same partition number (follow mode requires it for groups), so a translation is
 * exact: the group resumes at the first restored record it had not read, re-reading
 * nothing and skipping nothing, as long as that record's segment is still known.
 */
export class SyncPoints {
  private readonly segments = new Map<string, Segment[]>();

  /** Starts from the segments earlier runs persisted. */
  constructor(stored: readonly SourceOffsetEntry[]) {
    const persisted = stored
      .filter((e) => e.partition['kind'] === KIND)
      .map((e) => ({
        key: `${String(e.partition['topic'])}/${Number(e.partition['partition'])}`,
        segment: { source: num(e.offset['source']), target: num(e.offset['target']), count: num(e.offset['count'] ?? 1), seq: Number(e.offset['seq'] ?? 0) },
      }))
      .sort((a, b) => a.segment.seq - b.segment.seq);
    for (const { key, segment } of persisted) {
      const list = this.segments.get(key) ?? [];
      const last = list[list.length - 1];
      // A slot rewritten by a later segment holds only that one; anything out of order is an older generation.
      if (last && segment.source < last.source + last.count) continue;
      list.push(segment);
      this.segments.set(key, list);
    }
  }

  /** Adds one restored record; returns the segment it now belongs to, or undefined if it was already known. */
  private add(key: string, source: bigint, target: bigint): Segment | undefined {
    const list = this.segments.get(key) ?? [];
    const last = list[list.length - 1];
    if (last && source < last.source + last.count) return undefined;
    if (last && source === last.source + last.count && target === last.target + last.count) {
      last.count++;
      return last;
    }
    const segment = { source, target, count: 1n, seq: last ? last.seq + 1 : 0 };
    list.push(segment);
    if (list.length > MAX_SEGMENTS) list.splice(0, list.length - MAX_SEGMENTS);
    this.segments.set(key, list);
    return segment;
  }

  /** Notes delivered records; returns the segments they changed, to persist with their offsets. */
  delivered(records: readonly SourceRecord[], placements: readonly RecordPlacement[]): SourceOffsetEntry[] {
    const changed = new Map<Segment, { topic: string | number; partition: string | number }>();
    for (let i = 0; i < records.length; i++) {
      const { sourcePartition, sourceOffset } = records[i]!;
      const key = `${String(sourcePartition['topic'])}/${Number(sourcePartition['partition'])}`;
      const segment = this.add(key, num(sourceOffset['offset']), placements[i]!.offset);
      if (segment) changed.set(segment, { topic: sourcePartition['topic']!, partition: sourcePartition['partition']! });
    }
    return [...changed].map(([segment, { topic, partition }]) => ({
      partition: { kind: KIND, topic, partition, slot: segment.seq % PERSISTED },
      offset: { source: Number(segment.source), target: Number(segment.target), count: Number(segment.count), seq: segment.seq },
    }));
  }

  /**
   * The standby offset a group at backed-up offset `offset` of `topic/partition` resumes
   * from: where the first restored record at or after it landed, or the offset after the
   * last one restored. Undefined while no record at or before it is known (nothing
   * restored there yet, or history lost by a restart): the group keeps its standby offset.
   */
  translate(key: string, offset: bigint): bigint | undefined {
    const list = this.segments.get(key);
    if (!list || list.length === 0 || list[0]!.source > offset) return undefined;
    let low = 0;
    let high = list.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (list[mid]!.source <= offset) low = mid;
      else high = mid - 1;
    }
    const segment = list[low]!;
    // Past the segment's end lies a hole (compacted records, transaction markers) or what is not restored yet.
    return offset < segment.source + segment.count ? segment.target + (offset - segment.source) : segment.target + segment.count;
  }
}
