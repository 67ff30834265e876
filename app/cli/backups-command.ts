import type { Command, CommanderError } from 'commander';
import {
  clientFrom,
  CommandFailure,
  DEFAULT_URL,
  EXIT_FAILED,
  EXIT_USAGE,
  parseBackupId,
  usage,
  type BackupsClient,
  type BackupSummary,
  type ConnectionOptions,
} from './backups-client.js';

export { EXIT_FAILED, EXIT_USAGE, type BackupPartition, type BackupSummary } from './backups-client.js';

const WAIT_POLL_MS = 1_000;
/** Beyond this many partitions the live view would scroll away; the rest are summed up in one line. */
const PROGRESS_ROWS = 20;

/** Where a command writes and how it ends: the process's own, or captured by tests. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  stderrIsTty: boolean;
  env: Record<string, string | undefined>;
  /** The exit code once the command returns (set, not exited: stdout may still be draining). */
  setExitCode(code: number): void;
  /** Ends at once; used for commander's usage errors, which cannot return to it. */
  exitNow(code: number): never;
}

export function processIo(): CliIo {
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    stderrIsTty: process.stderr.isTTY === true,
    env: process.env,
    setExitCode: (code) => {
      process.exitCode = code;
    },
    exitNow: (code) => process.exit(code),
  };
}

function formatInstant(value: unknown): string {
  const date = typeof value === 'number' || typeof value === 'string' ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) return value === null || value === undefined ? '-' : String(value);
  return `${date.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

function partitionsDone(backup: BackupSummary): string {
  const partitions = backup.partitions ?? [];
  return `${partitions.filter((p) => p.status === 'COMPLETED').length}/${partitions.length}`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[header, ...rows].map(line).join('\n')}\n`;
}

export function backupsTable(backups: BackupSummary[]): string {
  return table(
    ['ID', 'STATUS', 'CREATED', 'PARTITIONS', 'FAILURE'],
    backups.map((b) => [String(b.backupId), b.status, formatInstant(b.createdAt), partitionsDone(b), b.failureReason ?? '']),
  );
}

function describeText(backup: BackupSummary): string {
  const facts = [
    ['created', formatInstant(backup.createdAt)],
    ['last updated', formatInstant(backup.lastUpdatedAt)],
    ['partitions', `${partitionsDone(backup)} durable up to the cut`],
    ...(backup.failureReason ? [['failure', backup.failureReason]] : []),
  ];
  const partitions = table(
    ['CONNECTOR', 'TOPIC', 'PARTITION', 'START', 'END', 'DURABLE', 'STATUS'],
    (backup.partitions ?? []).map((p) => [
      p.connector,
      p.topic,
      String(p.partition),
      String(p.startOffset),
      String(p.endOffset),
      String(p.durableOffset),
      p.status,
    ]),
  );
  const manifests =
    (backup.manifests ?? []).length > 0
      ? `\n${table(
          ['CONNECTOR', 'MANIFEST'],
          backup.manifests.map((m) => [m.connector, `${m.bucket}/${m.key}`]),
        )}`
      : '';
  return `Backup ${backup.backupId}: ${backup.status}\n${facts.map(([k, v]) => `  ${k!.padEnd(13)}${v}`).join('\n')}\n\n${partitions}${manifests}`;
}

/** How far each partition's durable offset is from its start to the cut, for the live view of `create --wait`. */
export function partitionProgressLines(backup: BackupSummary): string[] {
  const partitions = backup.partitions ?? [];
  const lines = partitions.slice(0, PROGRESS_ROWS).map((p) => {
    const start = Number(p.startOffset);
    const end = Number(p.endOffset);
    const fraction = p.status === 'COMPLETED' || end <= start ? 1 : Math.min(1, Math.max(0, (Number(p.durableOffset) - start) / (end - start)));
    const filled = Math.round(fraction * 20);
    return `  ${p.connector} ${p.topic}/${p.partition} [${'#'.repeat(filled)}${'-'.repeat(20 - filled)}] ${String(p.durableOffset)}/${String(p.endOffset)}`;
  });
  if (partitions.length > PROGRESS_ROWS) lines.push(`  … and ${partitions.length - PROGRESS_ROWS} more partitions`);
  return [`backup ${backup.backupId}: ${backup.status}, ${partitionsDone(backup)} partitions durable`, ...lines];
}

/** Redraws the partition view in place on a terminal. */
class LiveView {
  private shown = 0;
  constructor(private readonly io: CliIo) {}

  draw(lines: string[]): void {
    const up = this.shown > 0 ? `\x1b[${this.shown}A\x1b[J` : '';
    this.io.stderr(`${up}${lines.join('\n')}\n`);
    this.shown = lines.length;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForBackup(client: BackupsClient, id: number, timeoutSeconds: number | undefined, io: CliIo, pollMs: number): Promise<BackupSummary> {
  const deadline = timeoutSeconds === undefined ? Infinity : Date.now() + timeoutSeconds * 1000;
  const view = io.stderrIsTty ? new LiveView(io) : undefined;
  for (;;) {
    const backup = await client.describe(id);
    view?.draw(partitionProgressLines(backup));
    if (backup.status !== 'IN_PROGRESS') return backup;
    if (Date.now() + pollMs > deadline) {
      throw new CommandFailure(
        undefined,
        `backup ${id} is still IN_PROGRESS after ${timeoutSeconds} s (${partitionsDone(backup)} partitions durable); \`coldstore backups describe ${id}\` follows it`,
      );
    }
    await sleep(pollMs);
  }
}

function parseTimeout(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0) throw usage(`--timeout takes a number of seconds, not "${text}"`);
  return seconds;
}

/** Runs one command body, turning failures into their message and exit code. */
async function run(io: CliIo, body: () => Promise<number | void>): Promise<void> {
  try {
    io.setExitCode((await body()) ?? 0);
  } catch (err) {
    if (!(err instanceof CommandFailure)) throw err;
    io.stderr(`coldstore: ${err.code ? `[${err.code}] ` : ''}${err.message}\n`);
    io.setExitCode(err.exitCode);
  }
}

function withConnectionOptions(command: Command): Command {
  return command
    .option('--url <url>', `worker REST URL (env COLDSTORE_URL; default ${DEFAULT_URL})`)
    .option('--token <token>', 'bearer token (env COLDSTORE_TOKEN, which keeps it out of the process list)')
    .option('--user <user:password>', 'basic authentication')
    .option('--json', 'print the worker’s JSON answer as is');
}

const printJson = (io: CliIo, value: unknown) => io.stdout(`${JSON.stringify(value, null, 2)}\n`);

export function registerBackupCommands(program: Command, settings: { io?: CliIo; waitPollMs?: number } = {}): void {
  const io = settings.io ?? processIo();
  const pollMs = settings.waitPollMs ?? WAIT_POLL_MS;
  const backups = program
    .command('backups')
    .description('Backups by id in a running worker’s catalogue (its REST API)')
    .exitOverride((err: CommanderError) => {
      const informational = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help';
      io.exitNow(informational ? err.exitCode : EXIT_USAGE);
    });

  withConnectionOptions(backups.command('list').description('Every backup, newest first')).action((options: ConnectionOptions) =>
    run(io, async () => {
      const list = await clientFrom(options, io.env).list();
      if (options.json) printJson(io, list);
      else if (list.length === 0) io.stdout('No backups yet; `coldstore backups create <id>` takes one.\n');
      else io.stdout(backupsTable(list));
    }),
  );

  withConnectionOptions(backups.command('describe').description('One backup: status, partitions and manifests').argument('<id>', 'backup id')).action(
    (idText: string, options: ConnectionOptions) =>
      run(io, async () => {
        const id = parseBackupId(idText);
        const backup = await clientFrom(options, io.env).describe(id);
        if (options.json) printJson(io, backup);
        else io.stdout(describeText(backup));
      }),
  );

  withConnectionOptions(
    backups
      .command('create')
      .description('Take a backup with this id (greater than every earlier one): a consistent cut of every BackupSink’s topics')
      .argument('<id>', 'backup id')
      .option('--wait', 'wait until the backup is COMPLETED (exit 0) or FAILED (exit 1)')
      .option('--timeout <seconds>', 'with --wait: give up after this long (exit 1; the backup goes on)'),
  ).action((idText: string, options: ConnectionOptions & { wait?: boolean; timeout?: string }) =>
    run(io, async () => {
      const id = parseBackupId(idText);
      const timeout = parseTimeout(options.timeout);
      const client = clientFrom(options, io.env);
      const accepted = await client.create(id);
      if (!options.wait) {
        if (options.json) printJson(io, accepted);
        else io.stdout(`Backup ${id} started; \`coldstore backups describe ${id}\` shows its progress.\n`);
        return 0;
      }
      const backup = await waitForBackup(client, id, timeout, io, pollMs);
      if (options.json) printJson(io, backup);
      else io.stdout(backupsTable([backup]));
      if (backup.status === 'COMPLETED') return 0;
      io.stderr(`coldstore: backup ${id} ${backup.status}: ${backup.failureReason ?? 'no reason given'}\n`);
      return EXIT_FAILED;
    }),
  );

  withConnectionOptions(
    backups
      .command('delete')
      .description('Delete a backup’s manifests and the bundles no other backup (or the continuous retention) needs')
      .argument('<id>', 'backup id')
      .option('--dry-run', 'only list what would be deleted'),
  ).action((idText: string, options: ConnectionOptions & { dryRun?: boolean }) =>
    run(io, async () => {
      const id = parseBackupId(idText);
      const dryRun = options.dryRun === true;
      const answer = await clientFrom(options, io.env).delete(id, dryRun);
      if (options.json) return printJson(io, answer);
      const deleted = answer.deleted ?? [];
      const head = dryRun ? `Would delete ${deleted.length} objects of backup ${id}` : `Deleted backup ${id}: ${deleted.length} objects`;
      io.stdout(`${head}${deleted.length > 0 ? ':' : '.'}\n${deleted.map((o) => `  ${o.bucket}/${o.key}\n`).join('')}`);
    }),
  );
}
