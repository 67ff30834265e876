import { createHash } from 'node:crypto';
import type { TopicPartition } from '../../runtime/api/index.js';
import { claimKey, claimsPrefix, firstClaimKey, FORMAT_CLAIM, parseClaimKey } from '../common/formats/claim-keys.js';
import type { BundleUploader } from './bundle-uploader.js';
import type { OffsetRange } from '../layouts/layout.js';
import { MetadataName } from '../layouts/metadata-names.js';

/**
 * Range claims: before a range's objects are written, a small object named by the
 * range's start is created if absent, holding its end. Whoever creates the claim at a
 * start decides where that range ends; every other writer (a zombie whose session
 * expired, a second worker running the same connector) finds the claim and follows
 * it, so two writers can only ever write the same range — the same bytes — never
 * overlapping ones. A partition's claims are made in offset order, each only after
 * the one before it was granted, so they tile the partition from its first claim;
 * the first claim of a partition is fixed by a `first` object, created if absent
 * the same way. docs/formats.md specifies them.
 */

const sha256 = (body: Buffer) => createHash('sha256').update(body).digest('hex');

/** What a claim attempt found: the range is this writer's to write (new or its own), or another writer cut it differently. */
export type ClaimOutcome = { granted: true } | { granted: false; theirs: string };

function claimObject(range: OffsetRange, what: 'range' | 'first'): { body: Buffer; metadata: Record<string, string> } {
  const fields =
    what === 'range'
      ? { format: FORMAT_CLAIM, topic: range.topic, partition: range.partition, start: String(range.start), end: String(range.end) }
      : { format: FORMAT_CLAIM, topic: range.topic, partition: range.partition, first: String(range.start) };
  const body = Buffer.from(JSON.stringify(fields));
  const metadata: Record<string, string> = {
    [MetadataName.format]: FORMAT_CLAIM,
    [MetadataName.bodySha256]: sha256(body),
    [MetadataName.rangeStart]: String(range.start),
  };
  if (what === 'range') metadata[MetadataName.rangeEnd] = String(range.end);
  return { body, metadata };
}

export class RangeClaims {
  constructor(private readonly uploader: BundleUploader) {}

  /**
   * Claims the range; with `first`, also fixes it as the partition's first range (the
   * writer found no range before it). Transient store errors are retried until
   * `abandoned` says the partition was given up.
   */
  async claim(range: OffsetRange, first: boolean, abandoned: () => boolean): Promise<ClaimOutcome> {
    if (first) {
      const outcome = await this.create(firstClaimKey(range), claimObject(range, 'first'), abandoned);
      if (!outcome.granted) return outcome;
    }
    return this.create(claimKey(range, range.start), claimObject(range, 'range'), abandoned);
  }

  private async create(key: string, object: { body: Buffer; metadata: Record<string, string> }, abandoned: () => boolean): Promise<ClaimOutcome> {
    const fullKey = this.uploader.location.key(key);
    const put = await this.uploader.storeChecked(fullKey, object.body, object.metadata, abandoned, 'report');
    if (put !== 'conflict') return { granted: true };
    const theirs = await this.uploader.store.get(this.uploader.location.bucket, fullKey);
    return { granted: false, theirs: theirs?.body.toString('utf8') ?? 'unknown' };
  }

  /** Claim starts of the partition at or after `from` (all when undefined), with their object keys. */
  async list(tp: TopicPartition, from: bigint | undefined): Promise<Map<bigint, string>> {
    const { store, location } = this.uploader;
    const startAfter = from === undefined || from <= 0n ? undefined : claimKey(tp, from - 1n);
    const found = new Map<bigint, string>();
    for await (const object of location.list(store, claimsPrefix(tp), startAfter)) {
      const start = parseClaimKey(tp, object.key);
      if (start !== undefined) found.set(start, object.fullKey);
    }
    return found;
  }

  /** The end a claim holds (a HEAD); undefined when it is gone or not a claim. */
  async endOf(key: string): Promise<bigint | undefined> {
    const head = await this.uploader.store.head(this.uploader.location.bucket, key);
    const end = head?.metadata[MetadataName.format] === FORMAT_CLAIM ? head.metadata[MetadataName.rangeEnd] : undefined;
    return end !== undefined && /^\d+$/.test(end) ? BigInt(end) : undefined;
  }
}
