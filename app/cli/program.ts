import { Command } from 'commander';
import { ColdstoreError } from '../../runtime/api/errors.js';
import { VERSION } from '../../runtime/version.js';
import { configDocs } from './config-docs.js';
import { registerBackupCommands } from './backups-command.js';
import { registerRestoreCommand } from './restore-command.js';
import { registerStoreCommands } from './store-commands.js';
import { startWorker } from './worker-command.js';

const program = new Command('coldstore').version(VERSION).description('Cold, verifiable Kafka backups in S3, and their restore.');

program
  .command('worker')
  .description('Run a worker: the REST API and the connectors it holds (stored ones, plus connector JSON files given here).')
  .requiredOption('-c, --config <worker.json>', 'worker config file')
  .argument('[connectors...]', 'connector config files ({name, config} or a flat config with name)')
  .action(async (connectors: string[], options: { config: string }) => {
    const worker = await startWorker(options.config, connectors);
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      worker.log.info({ signal }, 'stopping: tasks flush and commit, then the worker exits');
      worker.stop().then(
        () => process.exit(0),
        (err: unknown) => {
          worker.log.error({ err }, 'stop failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
  });

program
  .command('docs')
  .description('Print generated documentation')
  .command('config')
  .description('The configuration reference (Markdown), generated from the declared configs')
  .action(() => {
    process.stdout.write(configDocs());
  });

registerBackupCommands(program);
registerRestoreCommand(program);
registerStoreCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  const code = err instanceof ColdstoreError ? `[${err.code}] ` : '';
  process.stderr.write(`coldstore: ${code}${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
