/**
 * A consumer group's offsets asked of a cluster whose group coordinator is not ready (a
 * fresh cluster, as after a coordinator moves): the bundled librdkafka answered
 * NOT_COORDINATOR by re-querying the coordinator through a consumer-group handle an
 * admin client does not have, and the worker died with SIGSEGV (librdkafka#5040; found
 * by standby-two-clusters, in about half its runs: BackupSink snapshots group offsets).
 * scripts/patch-kafka-client.sh fixes it. Each round asks from a child process, 20 calls
 * at a time, from while a fresh broker boots; a crash is the child's exit signal (before
 * the fix: 1 round in 3 crashed).
 */
import { execFile } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tmpDir } from '../helpers/tmp.js';
import { PrivateKafka } from './private-kafka.js';

const ROUNDS = 3;
const ADMIN = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), 'dist', 'runtime', 'kafka', 'admin.js');

const CHILD = `
const { KafkaAdmin } = await import(process.argv[1]);
const admin = new KafkaAdmin({ bootstrapServers: process.argv[2], extra: {} }, 'coordinator-probe');
const seen = { answers: 0, errors: {} };
const until = Date.now() + Number(process.argv[3]);
let i = 0;
await Promise.all(Array.from({ length: 20 }, async () => {
  while (Date.now() < until) {
    try {
      await admin.groupOffsets('probe-' + (i++ % 200));
      seen.answers++;
    } catch (err) {
      seen.errors[err.constructor.name] = (seen.errors[err.constructor.name] ?? 0) + 1;
    }
  }
}));
admin.disconnect();
console.log(JSON.stringify(seen));
`;

describe('group offsets asked while the group coordinator is not ready', () => {
  it('answer or fail retriably, never crash the process', async () => {
    for (let round = 1; round <= ROUNDS; round++) {
      const broker = await PrivateKafka.create(tmpDir('faults-admin-coordinator'));
      try {
        const booting = broker.start();
        const outcome = await new Promise<{ signal: string | null; code: number | null; stdout: string; stderr: string }>((done) => {
          const child = execFile(
            process.execPath,
            ['--input-type=module', '-e', CHILD, ADMIN, broker.bootstrap, '15000'],
            { timeout: 90_000 },
            (_err, stdout, stderr) => done({ signal: child.signalCode, code: child.exitCode, stdout, stderr }),
          );
        });
        await booting;
        expect(outcome.signal, `round ${round}: ${outcome.stderr}`).toBeNull();
        expect(outcome.code, outcome.stderr).toBe(0);
        const seen = JSON.parse(outcome.stdout.trim().split('\n').pop()!) as { answers: number; errors: Record<string, number> };
        expect(seen.answers).toBeGreaterThan(0);
        expect(Object.keys(seen.errors).filter((kind) => kind !== 'RetriableError')).toEqual([]);
        console.info(`[faults] admin-coordinator round ${round}: ${outcome.stdout.trim()}`);
      } finally {
        await broker.stop();
      }
    }
  }, 300_000);
});
