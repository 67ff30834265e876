/** Why an object in the backup cannot be restored. */
export type BadObjectKind = 'foreign' | 'corrupt-gzip' | 'checksum' | 'truncated' | 'inconsistent' | 'gap' | 'missing';

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
