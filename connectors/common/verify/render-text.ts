import { humanBytes } from '../format-bytes.js';
import type { BackupDescription } from './describe-backup.js';
import type { VerifyReport } from './report.js';

export { humanBytes };

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function whichBackup(backupId: number | null, layout?: string): string {
  return backupId === null ? `Continuous backup${layout ? ` (layout ${layout})` : ''}` : `Backup ${backupId}`;
}

/** The verify report for people: a summary, then each problem as `kind key: message`, then the notes. */
export function renderVerifyReport(report: VerifyReport): string {
  const lines = [
    `${whichBackup(report.backupId, report.layout)} in bucket ${report.bucket}: ${report.backupId === null ? '' : `${plural(report.manifests, 'manifest')}, `}` +
      `${plural(report.partitions, 'partition')}, ${plural(report.objects, 'object')} (${humanBytes(report.bytes)}), ${plural(report.records, 'record')}` +
      `${report.streams === undefined ? '' : `, ${plural(report.streams, 'stream')}`} checked`,
  ];
  const { keys, unencryptedObjects } = report.encryption;
  if (keys.length > 0) {
    const plaintext = unencryptedObjects > 0 ? `; ${plural(unencryptedObjects, 'object')} not encrypted` : '';
    lines.push(
      `Encrypted with ${keys.map((k) => `${k.provider} key ${k.keyId} (${plural(k.objects, 'object')})`).join(', ')}${plaintext}: restoring it needs ${keys.length === 1 ? 'that key' : 'those keys'}.`,
    );
  }
  if (report.problems.length > 0) {
    lines.push(`${plural(report.problems.length, 'problem')}:`);
    for (const p of report.problems) lines.push(`  ${p.kind} ${p.key}: ${p.message}`);
  }
  if (report.notes.length > 0) {
    lines.push(`${plural(report.notes.length, 'note')} (not problems):`);
    for (const note of report.notes) lines.push(`  ${note}`);
  }
  lines.push(report.ok ? 'OK: every object checked out.' : 'FAILED: see the problems above.');
  return `${lines.join('\n')}\n`;
}

/** Left-aligned text columns, right-aligned numbers. */
function table(header: string[], rows: string[][], numeric: boolean[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

const offset = (n: number | null) => (n === null ? '-' : String(n));

/** `coldstore ls`: one row per partition (and per bundle with --objects), then the totals. */
export function renderBackupDescription(description: BackupDescription): string {
  const rows: string[][] = [];
  for (const topic of description.topics) {
    for (const p of topic.partitions) {
      rows.push([topic.topic, String(p.partition), offset(p.firstOffset), offset(p.lastOffset), String(p.objects), String(p.records), humanBytes(p.bytes)]);
    }
  }
  const lines = [`${whichBackup(description.backupId, description.layout)} in bucket ${description.bucket}`];
  if (rows.length === 0) lines.push('(no bundles)');
  else lines.push(...table(['TOPIC', 'PARTITION', 'FIRST', 'LAST', 'OBJECTS', 'RECORDS', 'SIZE'], rows, [false, true, true, true, true, true, true]));

  const bundles = description.topics.flatMap((t) => t.partitions.flatMap((p) => p.bundles ?? []));
  if (bundles.length > 0) {
    lines.push('');
    const bundleRows = bundles.map((b) => [b.key, `${b.rangeStart}..${b.rangeEnd}`, b.records === null ? '?' : String(b.records), humanBytes(b.bytes)]);
    lines.push(...table(['KEY', 'OFFSETS', 'RECORDS', 'SIZE'], bundleRows, [false, false, true, true]));
  }
  const partitions = description.topics.reduce((n, t) => n + t.partitions.length, 0);
  lines.push(
    `${plural(description.topics.length, 'topic')}, ${plural(partitions, 'partition')}, ${plural(description.objects, 'object')}, ` +
      `${plural(description.records, 'record')}, ${humanBytes(description.bytes)}` +
      (description.foreignObjects > 0
        ? `; ${plural(description.foreignObjects, 'other object')} that ${description.foreignObjects === 1 ? 'is' : 'are'} not bundles (see coldstore verify)`
        : ''),
  );
  return `${lines.join('\n')}\n`;
}
