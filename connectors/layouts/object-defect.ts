import { UndecryptableObject } from '../common/encryption/encrypting-store.js';
import type { FetchedObject, ObjectStore } from '../common/object-store/object-store.js';
import { BundleDefect } from './body-check.js';

/**
 * Everything a checked read of a backup object can find wrong with it, in the order
 * it is checked; the restore and verify both report these kinds.
 */
export const OBJECT_DEFECT_KINDS = [
  'missing',
  'key-unavailable',
  'not-authentic',
  'size',
  'foreign',
  'corrupt-gzip',
  'checksum',
  'truncated',
  'inconsistent',
] as const;
export type ObjectDefectKind = (typeof OBJECT_DEFECT_KINDS)[number];

/** A backup object that is not what its key (and whoever lists it) says; `message` is the detail, without the key. */
export class ObjectDefect extends Error {
  override readonly name = 'ObjectDefect';
  constructor(
    readonly kind: ObjectDefectKind,
    message: string,
    readonly found: DefectContext,
  ) {
    super(message);
  }
}

/** What was known of the object when the defect was found. */
export interface DefectContext {
  /** Stored bytes read. */
  bytes: number;
  /** The coldstore-format its metadata states (for a `foreign` object). */
  format?: string | undefined;
  /** Whose data it holds, when its metadata or whoever names it says so. */
  topic?: string;
  partition?: number;
}

/** Runs a body check, turning its BundleDefect into an ObjectDefect. */
export async function checkingBody<T>(found: DefectContext, check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (err) {
    if (err instanceof BundleDefect) throw new ObjectDefect(err.kind, err.message, found);
    throw err;
  }
}

/** Reads an object for a checked read: one that cannot be decrypted (key unavailable, not authentic) is an ObjectDefect. */
export async function getChecked(store: ObjectStore, bucket: string, key: string, found: DefectContext): Promise<FetchedObject | undefined> {
  try {
    return await store.get(bucket, key);
  } catch (err) {
    if (err instanceof UndecryptableObject) throw new ObjectDefect(err.kind, err.detail, found);
    throw err;
  }
}
