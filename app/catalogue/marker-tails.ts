import type { KafkaCluster } from '../../runtime/api/index.js';
import { partitionDone, type StoredParticipant } from './backup-record.js';

/** How long a partition's durable offset must stand still short of the cut before Kafka is asked (then again as often). */
const STALLED_MS = 5_000;

/**
 * In cluster mode the leader sees a remote task's committed offset only, and a sink's
 * committed offset stops after its last record: a cut that ends in transaction markers or
 * aborted records (a transactional topic with nothing written since the cut) would never
 * be reached while the topic stays idle. Kafka is asked instead whether a committed record
 * lies between the durable offset and the cut's end: none means the cut is durable, as a
 * task running on the leader reports itself.
 */
export class MarkerTails {
  /** Per partition: the durable offset last seen and since when it stands still (or Kafka was last asked). */
  private readonly seen = new Map<string, { durable: string | undefined; since: number }>();

  /** Moves to the cut's end each pending partition whose remaining offsets hold no record to back up. */
  async settle(cluster: KafkaCluster, participants: readonly StoredParticipant[]): Promise<StoredParticipant[]> {
    const settled: StoredParticipant[] = [];
    for (const stored of participants) {
      const partitions = [];
      for (const p of stored.partitions)
        partitions.push(partitionDone(p) || !(await this.onlyMarkersLeft(cluster, stored.connector, p)) ? p : { ...p, durableOffset: p.endOffset });
      settled.push({ ...stored, partitions });
    }
    return settled;
  }

  private async onlyMarkersLeft(
    cluster: KafkaCluster,
    connector: string,
    p: { topic: string; partition: number; startOffset: string; endOffset: string; durableOffset?: string },
  ): Promise<boolean> {
    // A partition whose task still makes progress is left to it: asking reads Kafka each time.
    const key = `${connector}/${p.topic}/${p.partition}`;
    const last = this.seen.get(key);
    const now = Date.now();
    if (!last || last.durable !== p.durableOffset) {
      this.seen.set(key, { durable: p.durableOffset, since: now });
      return false;
    }
    if (now - last.since < STALLED_MS) return false;
    last.since = now;
    const from = BigInt(p.durableOffset ?? p.startOffset);
    return !(await cluster.committedRecordBetween({ topic: p.topic, partition: p.partition }, from, BigInt(p.endOffset)).catch(() => true));
  }
}
