import type { BundleDefectKind } from '../shared/bundle-check.js';

/** Why an object in the backup cannot be restored: a defect of its body (shared/bundle-check.ts), or where it sits. */
export type BadObjectKind = BundleDefectKind | 'foreign' | 'gap' | 'missing';

/** An object (or a hole between objects) the restore cannot use; the message names the key and what to do. */
export class BadObjectError extends Error {
  override readonly name = 'BadObjectError';
  constructor(
    readonly kind: BadObjectKind,
    readonly key: string,
    detail: string,
    /** The range the bad object claims to cover (from its key), so coverage checks can go on after skipping it. */
    readonly range?: { start: bigint; end: bigint },
  ) {
    super(`${kind}: ${key}: ${detail}`);
  }
}

export interface BadObjectReport {
  kind: BadObjectKind;
  key: string;
  message: string;
}
