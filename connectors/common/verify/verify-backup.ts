import type { LayoutName } from '../../layouts/layout.js';
import { resolveLayout } from './layout.js';
import { verifyAzulBackup } from './verify-azul.js';
import { verifyBackupById } from './verify-by-id.js';
import { verifyContinuousBackup } from './verify-continuous.js';
import type { VerifyOptions, VerifyReport } from './report.js';

/** How each layout's continuous backup is verified. */
const VERIFY_CONTINUOUS: Record<LayoutName, (options: VerifyOptions) => Promise<VerifyReport>> = {
  kafka: verifyContinuousBackup,
  azul: verifyAzulBackup,
};

/**
 * Reads a backup end to end and reports everything wrong with it: a backup by id
 * (`backupId`) against its manifests, or the continuous backup against the bundles'
 * own metadata (layout kafka) or the azul layout's offset index. Problems are
 * reported, not thrown; only store failures (access denied, unreachable) reject.
 */
export async function verifyBackup(options: VerifyOptions): Promise<VerifyReport> {
  const { backupId } = options;
  if (backupId !== undefined) return verifyBackupById({ ...options, backupId });
  const layout = await resolveLayout(options.store, options.location, options.layout);
  return VERIFY_CONTINUOUS[layout.name](options);
}
