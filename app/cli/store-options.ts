/** What the store commands (verify, inspect, ls) share: where the backup is, options, exit codes, progress. */
import cliProgress from 'cli-progress';
import { InvalidArgumentError, Option, type Command, type CommanderError } from 'commander';
import { backupSink } from '../../connectors/backup-sink/connector.js';
import { restoreSource } from '../../connectors/restore-source/connector.js';
import { backupLocationConfig, eventsLocation, streamsLocation, validateLocationSettings, type Location } from '../../connectors/common/backup-location.js';
import type { ObjectStore } from '../../connectors/common/object-store/object-store.js';
import { createObjectStore } from '../../connectors/common/object-store/store-config.js';
import { humanBytes, LAYOUT_CHOICES, type VerifyProgress } from '../../connectors/common/verify/index.js';
import { ColdstoreError, ConfigError, ErrorCodes, type FieldError } from '../../runtime/api/errors.js';
import { createRedactor, resolvePlaceholders } from '../../runtime/config/placeholders.js';
import { connectorFromFile, readJson } from './worker-command.js';

/** Bad usage or a bad config file; 1 is for problems found in the backup and store failures. */
export const USAGE_EXIT_CODE = 2;

export const CONFIG_HELP = 'a BackupSink or RestoreSource connector file ({name, config} or flat); its storage and bucket settings say where the backup is';

/** The connectors whose settings name a backup's location. */
export const LOCATION_PLUGINS = [backupSink, restoreSource];

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

export interface BackupAt {
  store: ObjectStore;
  location: Location;
  /** Where the azul layout's stream blobs are. */
  streams: Location;
}

/** The store, events and streams locations a connector file points at; every bad field is named in one ConfigError. */
export async function openBackupLocation(path: string): Promise<BackupAt> {
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

export function positiveInteger(what: string) {
  return (text: string): number => {
    const n = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`${what} must be a positive integer, got "${text}".`);
    return n;
  };
}

export function backupIdArgument(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`A backup id is a non-negative integer, got "${text}".`);
  return n;
}

/** Usage errors (unknown option, bad value) exit 2 instead of commander's 1; help exits 0. */
export function exitCodesFor(command: Command): Command {
  return command.exitOverride((err: CommanderError) => {
    process.exit(err.exitCode === 0 ? 0 : USAGE_EXIT_CODE);
  });
}

/** Runs an action; a config error is reported here with exit code 2, anything else goes to the program's handler (exit 1). */
export function withConfigExit<A extends unknown[]>(run: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
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
export function layoutOption(conflicts: string[]): Option {
  return new Option(
    '--layout <layout>',
    "the continuous backup's layout (the BackupSink's `layout`); auto = azul when the bucket holds azul index entries (~coldstore/azul-index/), else kafka",
  )
    .choices(LAYOUT_CHOICES)
    .default('auto')
    .conflicts(conflicts);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Progress on stderr when a person watches it; nothing when stderr is a file or pipe.
 * The continuous backup's total grows while it is listed, so it gets a counter, not a bar.
 */
export function progressReporter(totalKnown: boolean): { onProgress?: (p: VerifyProgress) => void; stop: () => void } {
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
