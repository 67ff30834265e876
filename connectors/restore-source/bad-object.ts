import { ColdstoreError, ErrorCodes, type TaskLogger, type TaskMetrics } from '../../runtime/api/index.js';
import type { BundleDefectKind } from '../layouts/body-check.js';
import { restoreMetrics } from './metrics.js';

/**
 * Why an object in the backup cannot be restored: a defect of its body (layouts/body-check.ts),
 * where it sits, or (dispatcher target) the dispatcher refusing it for good.
 */
export type BadObjectKind = BundleDefectKind | 'foreign' | 'gap' | 'missing' | 'key-unavailable' | 'not-authentic' | 'rejected';

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

/** How many skipped objects the status lists (all are logged and counted). */
export const REPORTED_BAD_OBJECTS = 50;

/**
 * What `on.bad.object` does with a bad object: `fail` throws BACKUP_OBJECT_INVALID naming
 * it; `skip` counts it (metric by kind), logs it, and lists the first few for the status.
 */
export class BadObjects {
  /** Skipped by this run. */
  count = 0;
  readonly reported: BadObjectReport[];

  constructor(
    /** The on.bad.object setting: fail or skip. */
    private readonly policy: string,
    private readonly metrics: TaskMetrics,
    private readonly log: TaskLogger,
    /** What earlier runs of the same job reported, when the restore keeps it. */
    earlier: readonly BadObjectReport[] = [],
  ) {
    this.reported = [...earlier];
  }

  /** Throws when the policy is `fail`; returns once the object is recorded as skipped otherwise. */
  handle(err: BadObjectError): void {
    this.metrics.add(restoreMetrics.badObjects, 1, { kind: err.kind });
    if (this.policy === 'fail') {
      throw new ColdstoreError(ErrorCodes.BACKUP_OBJECT_INVALID, `${err.message}. Fix or remove the object, or set on.bad.object=skip to restore around it.`, {
        cause: err,
      });
    }
    this.count++;
    if (this.reported.length < REPORTED_BAD_OBJECTS && !this.reported.some((r) => r.key === err.key && r.kind === err.kind))
      this.reported.push({ kind: err.kind, key: err.key, message: err.message });
    this.log.warn({ kind: err.kind, key: err.key, reason: err.message }, 'skipping a bad object (on.bad.object=skip)');
  }
}
