import type { BackupRecord } from './backup-record.js';

const DAY_MS = 86_400_000;

/**
 * The finished backups the policy lets go: a backup stays if it is among the newest
 * `count` or younger than `days` (a limit of 0 is off; both off keeps everything).
 * Backups still in progress always stay.
 */
export function backupsToRemove(records: readonly BackupRecord[], policy: { count: number; days: number }, now: number): number[] {
  if (policy.count <= 0 && policy.days <= 0) return [];
  const finished = records.filter((r) => r.status !== 'IN_PROGRESS').sort((a, b) => b.backupId - a.backupId);
  const completed = finished.filter((r) => r.status === 'COMPLETED');
  return finished
    .filter((r) => {
      const newest = policy.count > 0 && r.status === 'COMPLETED' && completed.indexOf(r) < policy.count;
      const young = policy.days > 0 && now - r.createdAt < policy.days * DAY_MS;
      return !newest && !young;
    })
    .map((r) => r.backupId);
}
