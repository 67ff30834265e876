import type { TopicPartition } from '../../../runtime/api/index.js';
import { METADATA_PREFIX } from './backup-metadata.js';

/** Where BackupSink's range claims live (connectors/backup-sink/range-claims.ts), relative to the events location; docs/formats.md specifies them. */
export const CLAIMS_PREFIX = `${METADATA_PREFIX}claims/`;
export const FORMAT_CLAIM = 'coldstore-claim-v1';

const pad = (n: bigint) => n.toString().padStart(20, '0');

export function claimsPrefix(tp: TopicPartition): string {
  return `${CLAIMS_PREFIX}${tp.topic}/${tp.partition}/`;
}

export function claimKey(tp: TopicPartition, start: bigint): string {
  return `${claimsPrefix(tp)}${pad(start)}`;
}

/** The object fixing a partition's first claimed range: where its backup starts. */
export function firstClaimKey(tp: TopicPartition): string {
  return `${claimsPrefix(tp)}first`;
}

/** The start a claim key names, or undefined for another key (e.g. the `first` object). */
export function parseClaimKey(tp: TopicPartition, key: string): bigint | undefined {
  const rest = key.startsWith(claimsPrefix(tp)) ? key.slice(claimsPrefix(tp).length) : '';
  return /^\d{20}$/.test(rest) ? BigInt(rest) : undefined;
}
