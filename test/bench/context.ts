/** What every scenario gets: the stack, options, logging, scratch space, and backups kept for the restore scenario. */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { StackEndpoints } from '../stack/stack.js';
import type { BenchOptions, Plan } from './options.js';

/** A finished backup whose buckets were kept (the restore scenario reads it). */
export interface KeptBackup {
  topic: string;
  label: string;
  bucketPrefix: string;
  gzipLevel: number;
}

export interface BenchContext {
  options: BenchOptions;
  plan: Plan;
  stack: StackEndpoints;
  s3: S3Client;
  log: (line: string) => void;
  /** A fresh scratch directory under the bench's temp root. */
  scratch: (prefix: string) => string;
  keptBackups: Map<string, KeptBackup>;
  /** Buckets to delete when the bench ends. */
  bucketsToDelete: Set<string>;
  /** Topics to delete when the bench ends. */
  topicsToDelete: Set<string>;
}

/** A temp root for this bench run, and a maker of fresh directories under it. */
export function scratchRoot(): { root: string; make: (prefix: string) => string } {
  const root = mkdtempSync(join(tmpdir(), 'coldstore-bench-'));
  return {
    root,
    make: (prefix: string) => {
      mkdirSync(root, { recursive: true });
      return mkdtempSync(join(root, `${prefix}-`));
    },
  };
}

/** A short unique suffix: lower case, so it fits backup labels and bucket names. */
export function unique(): string {
  return `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
}

/** Bucket names of a BackupSink with this prefix and label (connectors/common/backup-location.ts). */
export function bucketsOf(prefix: string, label: string): string[] {
  return [`${prefix}${label}-events`, `${prefix}${label}-streams`];
}

export const BUCKET_PREFIX = 'bench-';
