import { verifyBackupById } from './verify-by-id.js';
import { verifyContinuousBackup } from './verify-continuous.js';
import type { VerifyOptions, VerifyReport } from './report.js';

/**
 * Reads a backup end to end and reports everything wrong with it: a backup by id
 * (`backupId`) against its manifests, or the continuous backup against the bundles'
 * own metadata. Problems are reported, not thrown; only store failures (access
 * denied, unreachable) reject.
 */
export function verifyBackup(options: VerifyOptions): Promise<VerifyReport> {
  const { backupId } = options;
  return backupId === undefined ? verifyContinuousBackup(options) : verifyBackupById({ ...options, backupId });
}
