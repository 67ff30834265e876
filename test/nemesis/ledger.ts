/**
 * The nemesis's ledger: every record a producer sent, by topic, partition and offset, with
 * a digest of its key and value, and what became of it as far as the producer knows —
 * acknowledged (in a committed transaction, for the transactional topic), aborted, or
 * uncertain (the send or the commit failed while Kafka was away: written or not, a
 * producer cannot tell). The checker compares the broker with it, then the backup and
 * the restored topics with the broker.
 */
import { createHash } from 'node:crypto';

export type Fate = 'acknowledged' | 'aborted' | 'uncertain';

export interface LedgerEntry {
  partition: number;
  offset: bigint;
  digest: string;
  fate: Fate;
}

/** The digest of a record's key and value (a null key and an empty one differ; so do a tombstone and an empty value). */
export function recordDigest(key: Buffer | null, value: Buffer | null): string {
  const hash = createHash('sha256');
  for (const part of [key, value]) {
    hash.update(part === null ? 'n' : `b${part.length}:`);
    if (part !== null) hash.update(part);
  }
  return hash.digest('hex').slice(0, 32);
}

export class Ledger {
  private readonly entries = new Map<string, LedgerEntry[]>();
  /** Records whose send failed before any offset was known (counted, not placed). */
  readonly unplaced = new Map<string, number>();

  note(topic: string, entry: LedgerEntry): void {
    let list = this.entries.get(topic);
    if (!list) this.entries.set(topic, (list = []));
    list.push(entry);
  }

  unplacedSend(topic: string, count = 1): void {
    this.unplaced.set(topic, (this.unplaced.get(topic) ?? 0) + count);
  }

  of(topic: string): readonly LedgerEntry[] {
    return this.entries.get(topic) ?? [];
  }

  count(topic: string, fate: Fate): number {
    return this.of(topic).filter((e) => e.fate === fate).length;
  }
}

export interface BrokerView {
  partition: number;
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
}

/**
 * How the broker's read_committed records of `topic` disagree with the ledger: an
 * acknowledged record missing or different at its offset, an aborted one visible, a
 * record nobody sent. Uncertain records may be there or not. Empty when they agree.
 */
export function ledgerProblems(ledger: Ledger, topic: string, broker: readonly BrokerView[]): string[] {
  const problems: string[] = [];
  const at = (p: number, o: bigint) => `${p}/${o}`;
  const held = new Map(broker.map((r) => [at(r.partition, r.offset), recordDigest(r.key, r.value)]));
  const sent = new Map(ledger.of(topic).map((e) => [at(e.partition, e.offset), e]));
  for (const e of ledger.of(topic)) {
    const digest = held.get(at(e.partition, e.offset));
    if (e.fate === 'acknowledged' && digest !== e.digest)
      problems.push(`${topic} ${at(e.partition, e.offset)}: acknowledged, but the broker ${digest ? 'holds other bytes' : 'has nothing'} there`);
    if (e.fate === 'aborted' && digest !== undefined) problems.push(`${topic} ${at(e.partition, e.offset)}: aborted, yet read_committed sees it`);
  }
  // A send that failed before its offset was known may still have been written: at most that many records are unknown.
  const unknown = [...held.keys()].filter((where) => !sent.has(where));
  if (unknown.length > (ledger.unplaced.get(topic) ?? 0)) problems.push(`${topic}: ${unknown.length} records nobody sent (first ${unknown[0]})`);
  for (const [where, digest] of held) {
    const e = sent.get(where);
    if (e && e.digest !== digest) problems.push(`${topic} ${where}: differs from what was sent there`);
  }
  return problems.slice(0, 20);
}

/** A restored record must match its source in all of this: key, value, timestamp, headers. */
export interface FullRecord extends BrokerView {
  timestamp: bigint;
  headers: { key: string; value: Buffer | null }[];
}

function fullDigest(r: FullRecord): string {
  const headers = r.headers.map((h) => recordDigest(Buffer.from(h.key), h.value)).join(',');
  return recordDigest(r.key, r.value) + `@${r.timestamp}[${headers}]`;
}

/**
 * Compares a restored topic with its source, partition by partition: the same records
 * (key, value, timestamp, headers), in the same order, each once. Lost and duplicated
 * count records.
 */
export function restoredProblems(
  source: readonly FullRecord[],
  restored: readonly FullRecord[],
  partitions: number,
): { lost: number; duplicated: number; outOfOrder: number; problems: string[] } {
  let lost = 0;
  let duplicated = 0;
  let outOfOrder = 0;
  const problems: string[] = [];
  for (let p = 0; p < partitions; p++) {
    const want = source.filter((r) => r.partition === p).map(fullDigest);
    const got = restored.filter((r) => r.partition === p).map(fullDigest);
    // Repeated records (the compacted topic's) are compared as multisets and as sequences.
    const counts = new Map<string, number>();
    for (const d of want) counts.set(d, (counts.get(d) ?? 0) + 1);
    for (const d of got) counts.set(d, (counts.get(d) ?? 0) - 1);
    for (const n of counts.values()) {
      if (n > 0) lost += n;
      if (n < 0) duplicated -= n;
    }
    if (want.length === got.length && want.some((d, i) => got[i] !== d)) outOfOrder++;
    if (want.join() !== got.join() && problems.length < 10) {
      const first = want.findIndex((d, i) => got[i] !== d);
      problems.push(`partition ${p}: ${got.length} restored of ${want.length}, first difference at position ${first < 0 ? want.length : first}`);
    }
  }
  return { lost, duplicated, outOfOrder, problems };
}
