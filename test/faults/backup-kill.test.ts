/**
 * kill -9 of a backup worker at random moments (docs/reliability.md): a topic of several
 * partitions is written to all along while the worker backing it up into S3 is killed
 * at least 20 times — at random delays after it is healthy, sometimes during its start,
 * and at failpoints right after an upload or right before an offset commit — and
 * restarted each time. Small bundles closed by count and by age. Afterwards the coverage
 * checker proves every offset of the topic exactly once in S3, byte for byte.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KafkaProducer } from '../../runtime/kafka/producer.js';
import { readPartitions } from '../helpers/broker-records.js';
import { bootstrap, createTopic } from '../helpers/kafka.js';
import { fetchAll, listKeys, s3Client, s3Settings } from '../helpers/s3.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { freePort, WorkerProcess } from '../helpers/worker-process.js';
import { noKills, proveExactlyOnce, randomInt, recordDifferences, runThenKill, sleep, startWorker, summary, untilBackedUp } from './fault-kit.js';

const PARTITIONS = 4;
const KILLS = 22;
/** Records per partition per production tick (one tick about every 150 ms). */
const PER_TICK = 8;

/** Records of every kind: null and empty keys and values, binary values, duplicate and null headers. */
function recordFor(topic: string, partition: number, i: number) {
  return {
    topic,
    partition,
    key: i % 17 === 0 ? null : i % 19 === 0 ? Buffer.alloc(0) : Buffer.from(`k-${partition}-${i}`),
    value: i % 23 === 0 ? null : i % 29 === 0 ? Buffer.alloc(0) : i % 3 === 0 ? randomBytes(randomInt(1, 2000)) : Buffer.from(`v-${partition}-${i}`),
    headers:
      i % 5 === 0
        ? [
            { key: 'h', value: Buffer.from(`${i}`) },
            { key: 'h', value: null },
            { key: 'empty', value: Buffer.alloc(0) },
          ]
        : [],
  };
}

describe('BackupSink: kill -9 at random moments while the topic is written, every offset exactly once in S3', () => {
  const dir = tmpDir('faults-backup-kill');
  let worker: WorkerProcess | undefined;
  let producer: KafkaProducer | undefined;
  afterAll(async () => {
    await worker?.kill('SIGKILL');
    await producer?.disconnect();
  });

  it(`survives ${KILLS} SIGKILLs with zero lost and zero duplicated offsets`, async () => {
    const started = Date.now();
    const topic = uniqueName('fkill');
    const label = uniqueName('fkill').toLowerCase();
    const bucket = `coldstore-${label}-events`;
    await createTopic(topic, PARTITIONS);
    worker = new WorkerProcess(dir, await freePort(), { 'bootstrap.servers': bootstrap(), 'offset.flush.interval.ms': 300 });
    const connectorFile = join(dir, 'backup.json');
    writeFileSync(
      connectorFile,
      JSON.stringify({
        name: 'backup',
        config: {
          'connector.class': 'BackupSink',
          topics: topic,
          'tasks.max': '2',
          'backup.label': label,
          'bundle.max.records': '100',
          // Time-based closing on: a bundle rebuilt after a crash must keep its old boundaries.
          'bundle.max.age.ms': '1500',
          'gzip.level': '1',
          ...s3Settings(),
        },
      }),
    );

    // The topic is written to all along, from before the first start to after the last kill.
    producer = new KafkaProducer({ bootstrapServers: bootstrap(), extra: {} }, 'faults-backup-kill-producer');
    await producer.connect();
    const produced = Array.from({ length: PARTITIONS }, () => 0);
    let producing = true;
    const production = (async () => {
      while (producing) {
        await Promise.all(
          Array.from({ length: PARTITIONS }, (_, p) =>
            Promise.all(Array.from({ length: PER_TICK }, () => producer!.send(recordFor(topic, p, produced[p]!++)))),
          ),
        );
        await sleep(150);
      }
    })();

    const kills = noKills();
    const log: string[] = [];
    const client = s3Client();
    const bundleCount = async () => (await listKeys(client, bucket).catch(() => [])).length;
    let bundlesBefore = 0;
    let runsWithProgress = 0;
    for (let run = 0; run < KILLS; run++) {
      if (run > 0) {
        // Killed runs that wrote bundles: the kills land while work is under way, not only in idle moments.
        const now = await bundleCount();
        if (now > bundlesBefore) runsWithProgress++;
        bundlesBefore = now;
      }
      log.push(await runThenKill(worker, [connectorFile], kills));
    }
    if ((await bundleCount()) > bundlesBefore) runsWithProgress++;
    producing = false;
    await production;
    const faults = kills.random + kills.startup + kills.afterUpload + kills.beforeCommit;
    expect(faults).toBe(KILLS);

    // A last run, not killed, backs up what is left.
    expect(await startWorker(worker, [connectorFile])).toBe('started');
    const expectedCount = produced.reduce((a, b) => a + b, 0);
    const source = await readPartitions(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition, count: produced[partition]! })));
    expect(source).toHaveLength(expectedCount);
    await untilBackedUp(worker, client, bucket, expectedCount, 180_000);
    expect(await worker.kill('SIGTERM')).toBe(0);

    const objects = await fetchAll(client, bucket);
    const report = proveExactlyOnce(topic, PARTITIONS, objects, source, recordDifferences);
    summary('backup-kill', {
      runs: KILLS + 1,
      faults: faults,
      'kills(random/startup/after-upload/before-commit)': `${kills.random}/${kills.startup}/${kills.afterUpload}/${kills.beforeCommit}`,
      'killed runs that wrote bundles': runsWithProgress,
      bundles: report.bundles,
      'records checked': source.length,
      lost: report.lost,
      duplicated: report.duplicated,
      mismatched: report.mismatched,
      seconds: Math.round((Date.now() - started) / 1000),
    });
    console.info(`[faults] backup-kill sequence: ${log.join(' ')}`);
    expect(report.problems).toEqual([]);
    expect(report.lost).toBe(0);
    expect(report.duplicated).toBe(0);
    expect(report.mismatched).toBe(0);
    expect(report.records).toBe(source.length);
  });
});
