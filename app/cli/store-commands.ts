import { Option, type Command } from 'commander';
import { listBackupIds } from '../../connectors/common/backup-manifests.js';
import {
  DEFAULT_VERIFY_CONCURRENCY,
  describeBackup,
  inspectAzulBundle,
  inspectBundle,
  isAzulBundleKey,
  RECORD_ENCODINGS,
  renderBackupDescription,
  renderVerifyReport,
  verifyBackup,
  type LayoutChoice,
  type RecordEncoding,
} from '../../connectors/common/verify/index.js';
import { ColdstoreError, ErrorCodes } from '../../runtime/api/errors.js';

import {
  backupIdArgument,
  CONFIG_HELP,
  exitCodesFor,
  layoutOption,
  openBackupLocation,
  positiveInteger,
  printJson,
  progressReporter,
  withConfigExit,
} from './store-options.js';

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
      .option(
        '-b, --backup <id>',
        'verify this backup by id against its manifests (default: the continuous backup, every bundle in the bucket)',
        backupIdArgument,
      )
      .addOption(layoutOption(['backup']))
      .option(
        '--concurrency <n>',
        'objects downloaded and checked at the same time; also the most bodies held in memory',
        positiveInteger('--concurrency'),
        DEFAULT_VERIFY_CONCURRENCY,
      )
      .option('--json', 'print the report as JSON on stdout')
      .addHelpText(
        'after',
        '\nExit code: 0 the backup is fine, 1 problems found ([BACKUP_VERIFY_FAILED]; each is printed as "kind key: message") or the store failed, 2 bad usage or config.',
      )
      .action(
        withConfigExit(async (options: { config: string; backup?: number; layout: LayoutChoice; concurrency: number; json?: boolean }) => {
          const at = await openBackupLocation(options.config);
          const progress = progressReporter(options.backup !== undefined);
          const report = await verifyBackup({
            ...at,
            backupId: options.backup,
            layout: options.layout,
            concurrency: options.concurrency,
            onProgress: progress.onProgress,
          }).finally(progress.stop);
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
      .description(
        "Print a bundle's records, or an azul bundle's events, as JSON lines (checked first: a damaged or foreign object is an error naming its key).",
      )
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
      .option(
        '--json',
        'one JSON document {bucket, key, records: [...]} instead of JSON lines; for an azul bundle {bucket, key, model, metadata, events: [...]}',
      )
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
      .description(
        'List what a backup holds per topic and partition: offset range, objects, records and size; or, with --backups, the backup ids in the bucket.',
      )
      .argument('[topic]', 'only this topic')
      .addOption(configOption())
      .option(
        '-b, --backup <id>',
        'describe this backup by id from its manifests (default: the continuous backup, from a listing and one HEAD per bundle)',
        backupIdArgument,
      )
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
        withConfigExit(
          async (
            topic: string | undefined,
            options: { config: string; backup?: number; backups?: boolean; objects?: boolean; layout: LayoutChoice; concurrency: number; json?: boolean },
          ) => {
            const at = await openBackupLocation(options.config);
            if (options.backups) {
              const backupIds = await listBackupIds(at.store, at.location);
              if (options.json) printJson({ bucket: at.location.bucket, backupIds });
              else process.stdout.write(backupIds.length === 0 ? `No backups by id in bucket ${at.location.bucket}.\n` : `${backupIds.join('\n')}\n`);
              return;
            }
            const description = await describeBackup({
              ...at,
              backupId: options.backup,
              topic,
              layout: options.layout,
              concurrency: options.concurrency,
              objects: options.objects === true,
            });
            if (options.json) printJson(description);
            else process.stdout.write(renderBackupDescription(description));
          },
        ),
      ),
  );
}
