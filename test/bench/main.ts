/**
 * `npm run bench`: coldstore's performance figures against their baselines, measured in
 * the same run on the real local stack (docs/performance.md).
 *
 *   npm run bench -- [--quick] [--runs n] [--only backup,restore,rpo,...] [--json out.json] [--keep-stack] [--profile dir]
 */
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { stackUp, stopService } from '../stack/stack.js';
import { backupScenario, Topics } from './backup-scenario.js';
import { killAll } from './children.js';
import { bucketsOf, scratchRoot, type BenchContext, type KeptBackup } from './context.js';
import type { Figure } from './figures.js';
import { encryptionScenario } from './encryption-scenario.js';
import { failoverScenario } from './failover-scenario.js';
import { freshnessScenario } from './freshness-scenario.js';
import { deleteTopic } from './kafka.js';
import { describeMachine } from './machine.js';
import { memoryScenario } from './memory-scenario.js';
import { allIds, makePlan, parseOptions, unknownNames } from './options.js';
import { peerScenario } from './peer-scenario.js';
import { formatSummary, profileFiles, summarizeProfile } from './profile-summary.js';
import { table, writeJson } from './report.js';
import { restoreScenario } from './restore-scenario.js';
import { rpoScenario } from './rpo-scenario.js';
import { deleteBucket, s3Client } from './s3.js';

const CLI = resolve(import.meta.dirname, '../../dist/app/cli/main.cjs');

const options = parseOptions(process.argv.slice(2));
const unknown = unknownNames(options.only);
if (unknown.length > 0) {
  console.error(`--only: ${unknown.join(', ')} select${unknown.length === 1 ? 's' : ''} nothing; ids are ${allIds().join(', ')} (or any prefix of them)`);
  process.exit(2);
}
const plan = makePlan(options);
const began = Date.now();
const log = (line: string) => process.stderr.write(`[bench ${((Date.now() - began) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);

process.once('SIGINT', () => {
  log('interrupted: stopping the processes this bench started');
  killAll();
  process.exit(130);
});

if (!existsSync(CLI)) {
  console.error(`${CLI} is missing: build first (npx tsc -p tsconfig.json), or use npm run bench`);
  process.exit(2);
}
if (options.profile) mkdirSync(options.profile, { recursive: true });
if (plan.backupCases.length === 0 && options.only.some((n) => n.startsWith('backup/')))
  log(`--only ${options.only.join(',')} selects no backup case of the ${options.quick ? 'quick' : 'full'} matrix`);

const machine = describeMachine();
log(
  `coldstore bench (${options.quick ? 'quick' : 'full'}, ${options.runs} run${options.runs === 1 ? '' : 's'} per figure) on ${machine.cpuCount}× ${machine.cpuModel}, load ${machine.loadAverageAtStart.join(' ')}`,
);
const up = await stackUp({ log });
log(`stack: started ${up.started.join(', ') || 'nothing'}, reused ${up.reused.join(', ') || 'nothing'}`);

const scratch = scratchRoot();
if (options.profile) log(`profiling: worker directories (worker.log) are kept under ${scratch.root}`);
const ctx: BenchContext = {
  options,
  plan,
  stack: up.endpoints,
  s3: s3Client(up.endpoints),
  log,
  scratch: scratch.make,
  keptBackups: new Map<string, KeptBackup>(),
  bucketsToDelete: new Set(),
  topicsToDelete: new Set(),
};
const topics = new Topics(ctx);
const figures: Figure[] = [];
const errors: string[] = [];

async function scenario(name: string, run: () => Promise<Figure[]>): Promise<void> {
  if (!plan.selected(name)) return;
  const t0 = Date.now();
  log(`--- ${name}`);
  try {
    figures.push(...(await run()));
  } catch (err) {
    errors.push(`${name}: ${(err as Error).message}`);
    log(`${name} failed: ${(err as Error).stack ?? err}`);
  }
  log(`--- ${name} took ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

let profile: unknown;
try {
  await scenario('backup', () => backupScenario(ctx, topics));
  await scenario('encryption', () => encryptionScenario(ctx, topics));
  await scenario('restore', () => restoreScenario(ctx, topics));
  await scenario('memory', () => memoryScenario(ctx, topics));
  await scenario('freshness', () => freshnessScenario(ctx));
  await scenario('failover', () => failoverScenario(ctx));
  await scenario('rpo', () => rpoScenario(ctx));
  await scenario('peer', () => peerScenario(ctx, topics));
  for (const f of figures) if (f.error && !f.id.startsWith('peer/')) errors.push(`${f.id}: ${f.error}`);

  if (options.profile) {
    // Only this run's profiles: the directory may hold older ones.
    const summaries = profileFiles(options.profile)
      .filter((f) => statSync(f).mtimeMs >= began)
      .map((f) => summarizeProfile(f));
    for (const s of summaries) console.log(`${formatSummary(s)}\n`);
    profile = summaries;
  }
} finally {
  // Clean up: the backups kept for restores, anything a failed run left behind.
  for (const kept of ctx.keptBackups.values()) for (const b of bucketsOf(kept.bucketPrefix, kept.label)) ctx.bucketsToDelete.add(b);
  for (const b of ctx.bucketsToDelete) await deleteBucket(ctx.s3, b).catch((err: Error) => log(`could not delete bucket ${b}: ${err.message}`));
  for (const t of ctx.topicsToDelete) await deleteTopic(ctx.stack.kafkaBootstrap, t).catch((err: Error) => log(`could not delete topic ${t}: ${err.message}`));
  killAll();
  if (!options.profile) rmSync(scratch.root, { recursive: true, force: true });
  if (!options.keepStack) {
    for (const name of up.started) {
      log(`stopping ${name} (started by this bench; --keep-stack leaves it running)`);
      await stopService(name);
    }
  }
}

const durationSeconds = Math.round((Date.now() - began) / 1000);
console.log(
  `\ncoldstore bench — ${options.quick ? 'quick' : 'full'}, ${options.runs} run(s) per figure, medians; ${machine.cpuCount}× ${machine.cpuModel}, ${(machine.memoryBytes / 2 ** 30).toFixed(0)} GiB, ${machine.os}, Node ${machine.node}, Kafka ${machine.kafka}, S3Proxy ${machine.s3proxy}, commit ${machine.gitCommit.slice(0, 12)}${machine.gitDirty ? ' (dirty)' : ''}; ${durationSeconds} s\n`,
);
console.log(table(figures));
if (errors.length) console.log(`\nerrors:\n${errors.map((e) => `  ${e}`).join('\n')}`);
if (options.json) {
  writeJson(options.json, {
    startedAt: new Date(began).toISOString(),
    durationSeconds,
    options,
    plan: { ...plan, selected: undefined },
    machine,
    figures,
    errors,
    ...(profile ? { profile } : {}),
  });
  log(`wrote ${options.json}`);
}
process.exit(errors.length > 0 ? 1 : 0);
