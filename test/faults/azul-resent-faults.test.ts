/**
 * Issue 17, under crashes: Azul's real vectors (and a set of two runs ending with the
 * same event) produced 4 times in a row into two-partition topics, and 4 times again
 * before each run of the worker that is killed, backed up with
 * layout=azul by two tasks in a worker process killed at failpoints picked at random
 * (after a range's claim, after its bundle and rejects are stored and before its index
 * entry, before an offset commit), COLDSTORE_AZUL_RESENT_KILLS times per run (default 6),
 * then finished by a run that is not killed. Twice, on fresh topics and buckets: both
 * runs end with the same keys and bytes, every event once under the layout's rule
 * (proveAzulBackup: identical bulks are one object, each index entry names its range's
 * bulk), and `coldstore verify` exits 0.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliVerify, oneCopy, PARTITIONS, resentVectorSets, runIndependentListing } from '../helpers/azul-resent.js';
import { startDispatcherDouble, type DispatcherDouble } from '../helpers/dispatcher-double.js';
import { bootstrap, createTopic, produceRecords } from '../helpers/kafka.js';
import { fetchObjects, s3Client } from '../helpers/s3.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { freePort, WorkerProcess } from '../helpers/worker-process.js';
import { azulConnector } from './azul-kit.js';
import { checkBackup } from './azul-proof.js';
import { committedOffsets, logTail, pick, randomInt, sleep, startWorker, summary, until } from './fault-kit.js';

const KILLS = Number(process.env['COLDSTORE_AZUL_RESENT_KILLS'] ?? 6);
const COPIES = 4;
const POINTS = ['backup.after-claim', 'backup.after-upload', 'sink.before-commit'] as const;

describe('BackupSink layout azul, re-sent events, killed at failpoints: the same keys every run', () => {
  const dir = tmpDir('faults-azul-resent');
  let worker: WorkerProcess | undefined;
  let double: DispatcherDouble | undefined;
  afterAll(async () => {
    await worker?.kill('SIGKILL');
    await double?.close();
  });

  it(`${KILLS} kills per run, two runs on fresh buckets: identical keys and bytes, every event once, verify exit 0`, async () => {
    const started = Date.now();
    double = await startDispatcherDouble();
    const { sets, blobs } = resentVectorSets(double);
    const listings: string[][] = [];
    const sequences: string[] = [];
    for (let round = 0; round < 2; round++) {
      const prefix = uniqueName('fre').replace(/-/g, '');
      const label = uniqueName('faresent').toLowerCase();
      for (const set of sets) await createTopic(set.spec(prefix).name, PARTITIONS);
      // Before each killed run, the events are sent again, COPIES more times: each run has ranges to write when its failpoint comes.
      const batches = Math.max(1, KILLS);
      const sendAgain = async () => {
        for (let c = 0; c < COPIES; c++) await produceRecords(oneCopy(sets, prefix));
      };
      const name = `azul-resent-${round}`;
      const config = azulConnector({
        prefix,
        label,
        dispatcher: double,
        extra: { 'tasks.max': '2', 'bundle.max.records': String(COPIES), 'bundle.max.age.ms': '600000' },
      });
      const file = join(dir, `${name}.json`);
      writeFileSync(file, JSON.stringify({ name, config }));
      mkdirSync(join(dir, `worker-${round}`), { recursive: true });
      worker = new WorkerProcess(join(dir, `worker-${round}`), await freePort(), { 'bootstrap.servers': bootstrap(), 'offset.flush.interval.ms': 300 });

      const sequence: string[] = [];
      for (let kill = 0; kill < KILLS; kill++) {
        await sendAgain();
        const point = `${pick(POINTS)}@${randomInt(1, 8)}`;
        const outcome = await startWorker(worker, [file], { COLDSTORE_FAILPOINTS: point });
        const died = outcome === 'died' || (await Promise.race([worker.exited().then(() => true), sleep(15_000).then(() => false)]));
        if (!died) await worker.kill('SIGKILL');
        sequence.push(died ? point : `${point}-not-reached`);
      }
      sequences.push(sequence.join(' '));

      if (KILLS === 0) await sendAgain();
      expect(await startWorker(worker, [file])).toBe('started');
      const expected = new Map(
        sets.flatMap((set) => Array.from({ length: PARTITIONS }, (_, p) => [`${set.spec(prefix).name}/${p}`, batches * COPIES * set.events.length])),
      );
      await until(
        'every offset committed',
        async () => {
          const committed = await committedOffsets(worker!, name);
          return [...expected].every(([tp, n]) => committed.get(tp) === n) ? true : undefined;
        },
        120_000,
        1_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${logTail(worker!)}`);
      });
      expect(await worker.kill('SIGTERM')).toBe(0);

      const topics = sets.map((set) => ({ spec: set.spec(prefix), produced: Array.from({ length: PARTITIONS }, () => batches * COPIES * set.events.length) }));
      const report = await checkBackup(label, topics, blobs);
      expect(report.problems).toEqual([]);
      expect(report).toMatchObject({ lost: 0, duplicated: 0, mismatched: 0 });
      expect(report.renamed).toBeGreaterThanOrEqual(1);
      const verify = await cliVerify(dir, config);
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      listings.push(runIndependentListing(await fetchObjects(s3Client(), `coldstore-${label}-events`), prefix));
      summary(`azul-resent-kill round ${round + 1}`, {
        kills: sequence.filter((s) => !s.endsWith('not-reached')).length,
        'failpoints not reached (SIGKILL)': sequence.filter((s) => s.endsWith('not-reached')).length,
        ranges: report.ranges,
        bundles: report.bundles,
        'bundles shared/renamed': `${report.shared}/${report.renamed}`,
        events: report.events,
        lost: report.lost,
        duplicated: report.duplicated,
      });
    }
    console.info(`[faults] azul-resent-kill sequences: ${sequences.join(' | ')}`);
    expect(listings[1]).toEqual(listings[0]);
    console.info(`[faults] azul-resent-kill: ${Math.round((Date.now() - started) / 1000)} s`);
  });
});
