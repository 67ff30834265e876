import type { Command, CommanderError } from 'commander';
import { pino } from 'pino';
import { restoreSource } from '../../connectors/restore-source/connector.js';
import { ColdstoreError, ErrorCodes } from '../../runtime/api/errors.js';
import { createApp, type App } from '../app.js';
import { parseWorkerConfig } from '../../runtime/config/worker-config.js';
import type { ConnectorStatus } from '../../runtime/herder/connector-instance.js';
import { createRestoreProgress, formatBytes, formatDuration, restoreTotals, type RestoreProgress } from './restore-progress.js';
import { connectorFromFile, readJson } from './worker-command.js';

const STATUS_POLL_MS = 500;
/**
 * At first the status is polled faster: a job that finished in an earlier run turns
 * FINISHED within milliseconds, without ever showing a running task's progress.
 */
const EARLY_POLL_MS = 50;
const EARLY_PHASE_MS = 2_000;
/** What shells report for a command stopped by Ctrl-C. */
const EXIT_INTERRUPTED = 130;
/** Bad usage or a bad config file. */
const EXIT_USAGE = 2;

interface RestoreOptions {
  workerConfig: string;
  json?: boolean;
  progress: boolean;
}

type Outcome =
  | { kind: 'finished'; status: ConnectorStatus; earlier: boolean }
  | { kind: 'failed'; status: ConnectorStatus; who: string; trace: string }
  | { kind: 'held'; status: ConnectorStatus }
  | { kind: 'interrupted'; signal: NodeJS.Signals };

/** SIGINT/SIGTERM: the first stops the job gracefully (tasks flush and commit); a second one exits at once. */
class Interruption {
  signal: NodeJS.Signals | undefined;
  private wake: (() => void) | undefined;
  private readonly onSignal = (signal: NodeJS.Signals) => {
    if (this.signal) {
      process.stderr.write('coldstore: second signal; exiting without waiting for the tasks (the next run redoes what they had not committed)\n');
      process.exit(EXIT_INTERRUPTED);
    }
    this.signal = signal;
    this.wake?.();
  };

  constructor() {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  /** Sleeps, but wakes up at once on a signal. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  dispose(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }
}

/** Polls the job's status until it ends one way or another. */
async function followJob(app: App, name: string, progress: RestoreProgress, interruption: Interruption): Promise<Outcome> {
  const began = Date.now();
  let sawWork = false;
  for (;;) {
    if (interruption.signal) return { kind: 'interrupted', signal: interruption.signal };
    const status = app.herder.status(name);
    progress.update(status.tasks);
    if (status.connector.state === 'FAILED') return { kind: 'failed', status, who: `connector ${name}`, trace: status.connector.trace ?? '' };
    const failed = status.tasks.find((t) => t.state === 'FAILED');
    if (failed) return { kind: 'failed', status, who: `task ${failed.id} of ${name}`, trace: failed.trace ?? '' };
    if (status.tasks.length > 0 && status.tasks.every((t) => t.state === 'FINISHED')) {
      return { kind: 'finished', status, earlier: !sawWork && Date.now() - began < EARLY_PHASE_MS };
    }
    if (status.connector.state === 'PAUSED' || status.connector.state === 'STOPPED') return { kind: 'held', status };
    if (status.tasks.some((t) => t.state !== 'FINISHED' && t.progress)) sawWork = true;
    await interruption.sleep(Date.now() - began < EARLY_PHASE_MS ? EARLY_POLL_MS : STATUS_POLL_MS);
  }
}

function hasKey(json: unknown, key: string): boolean {
  return typeof json === 'object' && json !== null && key in json;
}

/** Runs the restore connector in an embedded worker until it ends; resolves with the exit code. */
export async function runRestore(connectorPath: string, options: RestoreOptions): Promise<number> {
  const rawWorkerConfig = await readJson(options.workerConfig, 'worker config');
  const workerConfig = parseWorkerConfig(rawWorkerConfig);
  const { name, config } = connectorFromFile(await readJson(connectorPath, 'connector file'), connectorPath);
  const dataDir = workerConfig['data.dir'];
  const progress = createRestoreProgress({ mode: !options.progress ? 'off' : process.stderr.isTTY ? 'bar' : 'lines', name, stream: process.stderr });
  // Info lines would bury the progress; the worker config can still ask for them.
  const log = pino(
    {
      level: hasKey(rawWorkerConfig, 'log.level') ? workerConfig['log.level'] : 'warn',
      base: { service: 'coldstore', command: 'restore' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    { write: (line: string) => progress.log(line) },
  );
  const app = await createApp(workerConfig, log);
  const plugin = app.herder.plugins.find(config['connector.class'] ?? '');
  if (plugin && plugin.className !== restoreSource.className) {
    await app.stop();
    throw new ColdstoreError(
      ErrorCodes.CONFIG_INVALID,
      `coldstore restore runs RestoreSource connectors; ${connectorPath} has connector.class ${config['connector.class']}. Run other connectors with \`coldstore worker\`.`,
    );
  }
  const startedAt = Date.now();
  const interruption = new Interruption();
  let outcome: Outcome;
  try {
    // Listening is opt-in: a restore on a machine that also runs a worker must not fight it for the port.
    if (hasKey(rawWorkerConfig, 'rest.port')) {
      await app.server.listen({ host: workerConfig['rest.host'], port: workerConfig['rest.port'] });
      const address = app.server.server.address();
      if (!workerConfig['worker.id'] && typeof address === 'object' && address) app.worker.workerId = `${workerConfig['rest.host']}:${address.port}`;
    }
    await app.start();
    const others = app.herder.names().filter((n) => n !== name);
    if (others.length > 0) {
      progress.log(
        `coldstore: ${dataDir} also holds connectors ${others.join(', ')}; they run too until the restore ends (give the restore its own data.dir to avoid this)`,
      );
    }
    await app.herder.putConfig(name, config, false);
    outcome = await followJob(app, name, progress, interruption);
  } catch (err) {
    progress.finish();
    await app.stop().catch(() => undefined);
    interruption.dispose();
    throw err;
  }
  progress.finish();
  if (outcome.kind === 'interrupted') process.stderr.write(`coldstore: ${outcome.signal}: stopping ${name}; its tasks flush and commit first\n`);
  await app.stop();
  interruption.dispose();
  return report(outcome, {
    name,
    dataDir,
    json: options.json === true,
    startedAt,
    resume: `coldstore restore --worker-config ${options.workerConfig} ${connectorPath}`,
  });
}

function report(outcome: Outcome, context: { name: string; dataDir: string; json: boolean; startedAt: number; resume: string }): number {
  const { name, json } = context;
  if (json && outcome.kind !== 'interrupted') process.stdout.write(`${JSON.stringify(outcome.status, null, 2)}\n`);
  // With --json stdout holds only the JSON; the human summary goes to stderr.
  const summary = (text: string) => (json ? process.stderr : process.stdout).write(`${text}\n`);
  switch (outcome.kind) {
    case 'finished': {
      const totals = restoreTotals(outcome.status.tasks);
      if (outcome.earlier) {
        summary(
          `${name} had already finished with this config (${totals.records} records restored); nothing to do. To restore again, give the connector another name or use another data.dir.`,
        );
      } else {
        const bad = totals.badObjects > 0 ? `, ${totals.badObjects} bad objects skipped` : '';
        summary(
          `${name} FINISHED: ${totals.records} records restored; this run read ${totals.objects} objects (${formatBytes(totals.bytes)}) in ${formatDuration((Date.now() - context.startedAt) / 1000)}${bad}.`,
        );
      }
      return 0;
    }
    case 'failed':
      process.stderr.write(`coldstore: ${outcome.who} FAILED: ${outcome.trace}\nFix the cause and run the same command again: it resumes where it stopped.\n`);
      return 1;
    case 'held':
      process.stderr.write(
        `coldstore: ${name} is ${outcome.status.connector.state} in ${context.dataDir} (a worker put it there): resume it with that worker (PUT /connectors/${name}/resume), or use another data.dir.\n`,
      );
      return 1;
    case 'interrupted':
      process.stderr.write(
        `coldstore: ${name} stopped; what it restored is committed in ${context.dataDir}. To resume, run the same command again:\n  ${context.resume}\n`,
      );
      return EXIT_INTERRUPTED;
  }
}

export function registerRestoreCommand(program: Command): void {
  program
    .command('restore')
    .description(
      'Run a RestoreSource to completion in an embedded worker (no REST listener unless the worker config sets rest.port). ' +
        'Killed or stopped, the same command resumes from the worker’s data.dir.',
    )
    .requiredOption('-c, --worker-config <worker.json>', 'worker config file (bootstrap.servers, data.dir for the checkpoints)')
    .argument('<restore-connector.json>', 'the RestoreSource connector file ({name, config} or a flat config with name)')
    .option('--json', 'print the final connector status as JSON on stdout')
    .option('--no-progress', 'no progress bar (terminal) or progress lines (otherwise) on stderr')
    .exitOverride((err: CommanderError) => {
      const informational = err.code === 'commander.helpDisplayed' || err.code === 'commander.version';
      process.exit(informational ? err.exitCode : EXIT_USAGE);
    })
    .action(async (connectorPath: string, options: RestoreOptions) => {
      let code: number;
      try {
        code = await runRestore(connectorPath, options);
      } catch (err) {
        // A config file with bad fields is bad usage, as for the other commands (docs/cli.md).
        if (!(err instanceof ColdstoreError) || err.code !== ErrorCodes.CONFIG_INVALID) throw err;
        process.stderr.write(`coldstore: [${err.code}] ${err.message}\n`);
        code = EXIT_USAGE;
      }
      // A stopped app may leave client handles behind for a while; the job is over either way.
      await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
      process.exit(code);
    });
}
