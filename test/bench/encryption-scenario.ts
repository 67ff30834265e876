/**
 * What envelope encryption costs a backup: the same topic backed up by coldstore with
 * encryption.provider=keyring and without, runs alternating, plain first. The keyring
 * keeps the figure about AES-GCM and the envelope, not about a KMS server's latency.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runColdstoreBackup, type BackupRunResult } from './backup-run.js';
import type { Topics } from './backup-scenario.js';
import type { BenchContext } from './context.js';
import { figure, measure, type Figure } from './figures.js';

const KIND = 'compressible';
const PARTITIONS = 8;
const GZIP_LEVEL = 1;
/** Encryption may cost at most a tenth of the throughput: AES-GCM with AES-NI is several times faster than gzip level 1. */
const TARGET_RATIO = 0.9;

export async function encryptionScenario(ctx: BenchContext, topics: Topics): Promise<Figure[]> {
  const t = await topics.get(KIND, PARTITIONS, ctx.plan.backupRecords);
  const keyring = join(ctx.scratch('encryption'), 'keyring.json');
  writeFileSync(keyring, JSON.stringify({ active: 'bench', keys: { bench: randomBytes(32).toString('base64') } }), { mode: 0o600 });
  const encrypted: BackupRunResult[] = [];
  const plain: BackupRunResult[] = [];
  for (let run = 0; run < ctx.options.runs; run++) {
    plain.push(await runColdstoreBackup(ctx, t, { gzipLevel: GZIP_LEVEL }));
    encrypted.push(
      await runColdstoreBackup(ctx, t, { gzipLevel: GZIP_LEVEL, config: { 'encryption.provider': 'keyring', 'encryption.keyring.file': keyring } }),
    );
    ctx.log(`encryption run ${run + 1}: encrypted ${encrypted.at(-1)!.mbPerSec.toFixed(1)} MB/s, plain ${plain.at(-1)!.mbPerSec.toFixed(1)} MB/s`);
  }
  const cpuMsPerMb = (runs: BackupRunResult[]) => measure(runs.map((x) => (x.usage.cpuSeconds * 1000) / (x.bytes / 1e6)));
  const cpu = cpuMsPerMb(encrypted);
  const plainCpu = cpuMsPerMb(plain);
  return [
    figure({
      id: 'encryption',
      title: `Backup ${KIND}, ${PARTITIONS} partitions, gzip ${GZIP_LEVEL}, encrypted (keyring)`,
      unit: 'MB/s',
      coldstore: measure(encrypted.map((x) => x.mbPerSec)),
      baseline: { ...measure(plain.map((x) => x.mbPerSec)), label: 'the same backup without encryption' },
      target: { of: 'ratio', op: '>=', value: TARGET_RATIO },
      note: `CPU ${cpu.median.toFixed(0)} vs ${plainCpu.median.toFixed(0)} ms/MB`,
      details: { cpuMsPerMb: cpu, plainCpuMsPerMb: plainCpu, encryptedRuns: encrypted, plainRuns: plain },
    }),
  ];
}
