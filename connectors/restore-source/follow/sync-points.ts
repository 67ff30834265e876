import type { RecordPlacement, SourceOffsetEntry, SourceRecord } from '../../../runtime/api/index.js';

/** A restored record: its offset in the backup (source) and where it landed on the standby (target, same partition number). */
interface SyncPoint {
  source: bigint;
  target: bigint;
}

/** Every this many records of a run a point is kept: a translated group offset repeats fewer records than this. */
const EVERY = 100;
/** Points kept per partition (the oldest go first): about EVERY × MAX_POINTS records of history. */
const MAX_POINTS = 4_096;
const KIND = 'sync';

/**
 * Where restored records landed on the standby, sampled, per source partition: what a
 * backed-up consumer-group offset is translated with. Records of a partition land in
 * order in the same partition number (follow mode requires it for groups), so a group
 * at source offset G resumes at the target of the point at G, or one past the last point
 * before G — never after a record it has not read; it may re-read up to EVERY records.
 */
export class SyncPoints {
  private readonly points = new Map<string, SyncPoint[]>();

  /** Starts from the points persisted by earlier runs (the last record each run restored per partition). */
  constructor(stored: readonly SourceOffsetEntry[]) {
    for (const e of stored) {
      if (e.partition['kind'] !== KIND) continue;
      this.add(
        `${String(e.partition['topic'])}/${Number(e.partition['partition'])}`,
        BigInt(e.offset['source'] as number),
        BigInt(e.offset['target'] as number),
      );
    }
  }

  private add(key: string, source: bigint, target: bigint): void {
    const list = this.points.get(key) ?? [];
    const last = list[list.length - 1];
    if (last && source <= last.source) return;
    list.push({ source, target });
    if (list.length > MAX_POINTS) list.splice(0, list.length - MAX_POINTS);
    this.points.set(key, list);
  }

  /** Samples delivered records; returns one entry per source partition (its last record) to persist with their offsets. */
  delivered(records: readonly SourceRecord[], placements: readonly RecordPlacement[]): SourceOffsetEntry[] {
    const last = new Map<string, SourceOffsetEntry>();
    let key = '';
    let inRun = 0;
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      const next = records[i + 1];
      const recordKey = `${String(record.sourcePartition['topic'])}/${Number(record.sourcePartition['partition'])}`;
      if (recordKey !== key) {
        key = recordKey;
        inRun = 0;
      }
      const source = BigInt(record.sourceOffset['offset'] as number);
      const target = BigInt(placements[i]!.offset);
      const endOfRun = next === undefined || next.sourcePartition !== record.sourcePartition;
      if (inRun % EVERY === 0 || endOfRun) this.add(key, source, target);
      inRun++;
      if (endOfRun) {
        last.set(key, {
          partition: { kind: KIND, topic: record.sourcePartition['topic']!, partition: record.sourcePartition['partition']! },
          offset: { source: Number(source), target: Number(target) },
        });
      }
    }
    return [...last.values()];
  }

  /**
   * The standby offset a group at backed-up offset `offset` of `topic/partition` resumes
   * from: exact at a sampled record, else one past the last sampled record before it.
   * Undefined while no point at or before it is known (nothing restored there yet, or
   * history lost by a restart): the group keeps the offset it has on the standby.
   */
  translate(key: string, offset: bigint): bigint | undefined {
    const list = this.points.get(key);
    if (!list || list.length === 0 || list[0]!.source > offset) return undefined;
    let low = 0;
    let high = list.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (list[mid]!.source <= offset) low = mid;
      else high = mid - 1;
    }
    const point = list[low]!;
    return point.source === offset ? point.target : point.target + 1n;
  }
}
