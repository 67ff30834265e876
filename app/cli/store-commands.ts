import cliProgress from 'cli-progress';
import { InvalidArgumentError, Option, type Command, type CommanderError } from 'commander';
import { backupSink } from '../../connectors/backup-sink/connector.js';
import { restoreSource } from '../../connectors/restore-source/connector.js';
import { backupLocationConfig, eventsLocation, streamsLocation, validateLocationSettings, type Location } from '../../connectors/shared/backup-location.js';
import { listBackupIds } from '../../connectors/shared/backup-manifests.js';
import type { ObjectStore } from '../../connectors/shared/object-store/object-store.js';
import { createObjectStore } from '../../connectors/shared/object-store/store-config.js';
import {
  DEFAULT_VERIFY_CONCURRENCY,
  describeBackup,
  humanBytes,
  inspectAzulBundle,
  inspectBundle,
  isAzulBundleKey,
  LAYOUT_CHOICES,
  RECORD_ENCODINGS,
  renderBackupDescription,
  renderVerifyReport,
  verifyBackup,
  type LayoutChoice,
  type RecordEncoding,
  type VerifyProgress,
} from '../../connectors/shared/verify/index.js';
import { ColdstoreError, ConfigError, ErrorCodes, type FieldError } from '../../runtime/api/errors.js';
import { createRedactor, resolvePlaceholders } from '../../runtime/config/placeholders.js';
import { connectorFromFile, readJson } from './worker-command.js';

/** Bad usage or a bad config file; 1 is for problems found in the backup and store failures. */
const USAGE_EXIT_CODE = 2;

const CONFIG_HELP = 'a BackupSink or RestoreSource connector file ({name, config} or flat); its storage and bucket settings say where the backup is';

/** The connectors whose settings name a backup's location. */
const LOCATION_PLUGINS = [backupSink, restoreSource];

/** A connector file with bad fields; shown one field per line. */
class ConnectorFileError extends ConfigError {
  constructor(
    fields: FieldError[],
    readonly path: string,
  ) {
    super(fields, `connector file ${path}`);
  }

  describe(): string {
    return [`Invalid connector file ${this.path}:`, ...this.fields.map((f) => `  ${f.field}: ${f.message}`)].join('\n');
  }
}

interface BackupAt {
  store: ObjectStore;
  location: Location;
  /** Where the azul layout's stream blobs are. */
  streams: Location;
}

/** The store, events and streams locations a connector file points at; every bad field is named in one ConfigError. */
async function openBackupLocation(path: string): Promise<BackupAt> {
  let config: Record<string, string>;
  try {
    ({ config } = connectorFromFile(await readJson(path, 'connector file'), path));
  } catch (err) {
    // A file that is not a connector config is a config error here, whatever code the parser gave it.
    if (err instanceof ColdstoreError) throw new ColdstoreError(ErrorCodes.CONFIG_INVALID, err.message, { cause: err });
    throw err;
  }
  const fields: FieldError[] = [];
  const className = config['connector.class'];
  if (className && !LOCATION_PLUGINS.some((p) => p.className === className || p.aliases?.includes(className))) {
    fields.push({ field: 'connector.class', message: `must be BackupSink or RestoreSource (their settings say where a backup lives), got "${className}"` });
  }
  const { config: resolved, errors: placeholderErrors } = resolvePlaceholders(config);
  const { values, errors } = backupLocationConfig.validate(resolved);
  // The cross-field rules read the raw strings, so they can run beside the per-field errors: every bad field in one go.
  fields.push(...placeholderErrors, ...errors, ...validateLocationSettings(resolved));
  if (fields.length > 0) {
    // Messages quote values; one that came from a placeholder is shown as the placeholder.
    const redact = createRedactor(config);
    throw new ConnectorFileError(
      fields.map((f) => ({ ...f, message: redact(f.message) })),
      path,
    );
  }
  return { store: createObjectStore(values), location: eventsLocation(values), streams: streamsLocation(values) };
}

function positiveInteger(what: string) {
  return (text: string): number => {
    const n = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`${what} must be a positive integer, got "${text}".`);
    return n;
  };
}

function backupIdArgument(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`A backup id is a non-negative integer, got "${text}".`);
  return n;
}

/** Usage errors (unknown option, bad value) exit 2 instead of commander's 1; help exits 0. */
function exitCodesFor(command: Command): Command {
  return command.exitOverride((err: CommanderError) => {
    process.exit(err.exitCode === 0 ? 0 : USAGE_EXIT_CODE);
  });
}

/** Runs an action; a config error is reported here with exit code 2, anything else goes to the program's handler (exit 1). */
function withConfigExit<A extends unknown[]>(run: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await run(...args);
    } catch (err) {
      if (!(err instanceof ColdstoreError) || err.code !== ErrorCodes.CONFIG_INVALID) throw err;
      process.stderr.write(`coldstore: [${err.code}] ${err instanceof ConnectorFileError ? err.describe() : err.message}\n`);
      process.exitCode = USAGE_EXIT_CODE;
    }
  };
}

/** `--layout` of the commands that read the continuous backup. */
function layoutOption(conflicts: string[]): Option {
  return new Option('--layout <layout>', 'the continuous backup\'s layout (the BackupSink\'s `layout`); auto = azul when the bucket holds azul index entries (~coldstore/azul-index/), else kafka')
    .choices(LAYOUT_CHOICES)
    .default('auto')
    .conflicts(conflicts);
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Progress on stderr when a person watches it; nothing when stderr is a file or pipe.
 * The continuous backup's total grows while it is listed, so it gets a counter, not a bar.
 */
function progressReporter(totalKnown: boolean): { onProgress?: (p: VerifyProgress) => void; stop: () => void } {
  if (!process.stderr.isTTY) return { stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: totalKnown ? 'verifying [{bar}] {value}/{total} objects, {size}' : 'verifying: {value} objects checked, {size}',
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    onProgress: (p) => {
      if (!started) {
        bar.start(p.totalObjects, p.objects, { size: humanBytes(p.bytes) });
        started = true;
        return;
      }
      bar.setTotal(p.totalObjects);
      bar.update(p.objects, { size: humanBytes(p.bytes) });
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

/** `coldstore verify`, `inspect` and `ls`: reading a backup straight from its store, no worker needed. */
export function registerStoreCommands(program: Command): void {
  const configOption = () => new Option('-c, --config <connector.json>', CONFIG_HELP).makeOptionMandatory();

  exitCodesFor(
    program
      .command('verify')
      .description(
        'Read a backup end to end: every object exists, decompresses, matches its sha256 and record count, holds only its own partition and offsets, and the objects tile the offsets without gaps; ' +
          'for the azul layout, through its offset index, and every stream blob an event refers to is in the streams bucket.',
      )
      .addOption(configOption())
      .option('-b, --backup <id>', 'verify this backup by id against its manifests (default: the continuous backup, every bundle in the bucket)', backupIdArgument)
      .addOption(layoutOption(['backup']))
      .option('--concurrency <n>', 'objects downloaded and checked at the same time; also the most bodies held in memory', positiveInteger('--concurrency'), DEFAULT_VERIFY_CONCURRENCY)
      .option('--json', 'print the report as JSON on stdout')
      .addHelpText('after', '\nExit code: 0 the backup is fine, 1 problems found ([BACKUP_VERIFY_FAILED]; each is printed as "kind key: message") or the store failed, 2 bad usage or config.')
      .action(
        withConfigExit(async (options: { config: string; backup?: number; layout: LayoutChoice; concurrency: number; json?: boolean }) => {
          const at = await openBackupLocation(options.config);
          const progress = progressReporter(options.backup !== undefined);
          const report = await verifyBackup({ ...at, backupId: options.backup, layout: options.layout, concurrency: options.concurrency, onProgress: progress.onProgress }).finally(progress.stop);
          if (options.json) printJson(report);
          else process.stdout.write(renderVerifyReport(report));
          if (!report.ok) {
            const what = report.backupId === null ? 'the continuous backup' : `backup ${report.backupId}`;
            const first = report.problems[0]!;
            throw new ColdstoreError(
              ErrorCodes.BACKUP_VERIFY_FAILED,
              `${report.problems.length} problem${report.problems.length === 1 ? '' : 's'} in ${what} in ${report.bucket}, first: ${first.kind} ${first.key}: ${first.message}`,
            );
          }
        }),
      ),
  );

  exitCodesFor(
    program
      .command('inspect')
      .description("Print a bundle's records, or an azul bundle's events, as JSON lines (checked first: a damaged or foreign object is an error naming its key).")
      .argument(
        '<key>',
        'the bundle key relative to the events location, e.g. orders/0/00000000000000000000-00000000000000000999.avro.gz, or an azul bundle <source>/<model>/<action>/<time>-<count>-<kafka_key> (`coldstore ls --objects` lists them)',
      )
      .addOption(configOption())
      .addOption(
        new Option(
          '--encoding <encoding>',
          'how keys, values and header values are written: auto = UTF-8 text when valid UTF-8, else base64 with keyEncoding/valueEncoding "base64" beside the field; in azul events, bytes fields (auto = base64)',
        )
          .choices(RECORD_ENCODINGS)
          .default('auto'),
      )
      .option('--limit <n>', 'print at most n records (events)', positiveInteger('--limit'))
      .option('--json', 'one JSON document {bucket, key, records: [...]} instead of JSON lines; for an azul bundle {bucket, key, model, metadata, events: [...]}')
      .addHelpText('after', '\nExit code: 0 printed, 1 the object is missing, damaged or not a bundle, or the store failed, 2 bad usage or config.')
      .action(
        withConfigExit(async (key: string, options: { config: string; encoding: RecordEncoding; limit?: number; json?: boolean }) => {
          const at = await openBackupLocation(options.config);
          // `| head` closes the pipe early: that is the reader's choice, not an error.
          process.stdout.on('error', (err: NodeJS.ErrnoException) => {
            if (err.code === 'EPIPE') process.exit(0);
            throw err;
          });
          if (isAzulBundleKey(key, at.location)) {
            const bundle = await inspectAzulBundle({ ...at, key, encoding: options.encoding, limit: options.limit });
            if (options.json) printJson({ bucket: at.location.bucket, ...bundle });
            else for (const event of bundle.events) process.stdout.write(`${JSON.stringify(event)}\n`);
            return;
          }
          const records = inspectBundle({ ...at, key, encoding: options.encoding, limit: options.limit });
          if (options.json) {
            const all = [];
            for await (const record of records) all.push(record);
            printJson({ bucket: at.location.bucket, key, records: all });
            return;
          }
          for await (const record of records) process.stdout.write(`${JSON.stringify(record)}\n`);
        }),
      ),
  );

  exitCodesFor(
    program
      .command('ls')
      .description('List what a backup holds per topic and partition: offset range, objects, records and size; or, with --backups, the backup ids in the bucket.')
      .argument('[topic]', 'only this topic')
      .addOption(configOption())
      .option('-b, --backup <id>', 'describe this backup by id from its manifests (default: the continuous backup, from a listing and one HEAD per bundle)', backupIdArgument)
      .addOption(new Option('--backups', 'list the ids of the backups in the bucket instead').conflicts(['backup', 'objects']))
      .option('--objects', 'also list every bundle: key (for coldstore inspect), offsets, records, size')
      .addOption(layoutOption(['backup', 'backups']))
      .option('--concurrency <n>', 'HEAD requests at the same time (continuous backup)', positiveInteger('--concurrency'), DEFAULT_VERIFY_CONCURRENCY)
      .option('--json', 'print JSON on stdout (sizes in exact bytes)')
      .addHelpText(
        'after',
        '\nFIRST/LAST: for the continuous backup the first and last record offsets backed up (azul event bundles: the bounds of their ranges); for a backup by id its cut (log start offset .. end offset - 1).',
      )
      .action(
        withConfigExit(async (topic: string | undefined, options: { config: string; backup?: number; backups?: boolean; objects?: boolean; layout: LayoutChoice; concurrency: number; json?: boolean }) => {
          const at = await openBackupLocation(options.config);
          if (options.backups) {
            const backupIds = await listBackupIds(at.store, at.location);
            if (options.json) printJson({ bucket: at.location.bucket, backupIds });
            else process.stdout.write(backupIds.length === 0 ? `No backups by id in bucket ${at.location.bucket}.\n` : `${backupIds.join('\n')}\n`);
            return;
          }
          const description = await describeBackup({ ...at, backupId: options.backup, topic, layout: options.layout, concurrency: options.concurrency, objects: options.objects === true });
          if (options.json) printJson(description);
          else process.stdout.write(renderBackupDescription(description));
        }),
      ),
  );
}
