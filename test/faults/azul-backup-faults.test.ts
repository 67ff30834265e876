/**
 * BackupSink `layout=azul` under faults (docs/formats.md "Layout azul", docs/reliability.md),
 * against the dispatcher double of test/helpers/dispatcher-double.ts serving real blobs:
 *
 * a. kill -9 of the worker at random moments, 22 times, while Azul topics are written to
 *    (events sharing blobs, events with blobs of their own, blobs the dispatcher does not
 *    have, invalid records), with small bundles closed by count and by age and a few blobs
 *    whose first download fails (so the spool is in use when the kills land). Afterwards
 *    every partition's index entries tile its offsets, every event is in exactly one
 *    bundle (or in one that ranges of the same re-sent events share), every invalid record
 *    in exactly one rejects bundle, every blob the dispatcher has is in the streams bucket
 *    with the right sha256, and the spool is empty.
 * b. The dispatcher misbehaving mid-backup, the worker staying up: 5xx, garbage and resets
 *    for a while (the backup completes by itself); 200 with garbage bytes (a sha256
 *    mismatch: not stored); 403, connection resets and hangs until fixed (the task FAILS
 *    with DISPATCHER_FAILED, its spool in the streams bucket; restarted once the dispatcher
 *    is fixed, it completes and drains the spool).
 * c. The object store refusing the spool write while a stream fails: the task FAILS with
 *    STORE_IO naming the spool location, nothing is committed past the stuck range; once
 *    the store accepts the write again and the task is restarted, it completes.
 * In every case the same checker proves nothing lost and nothing duplicated.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AZUL_INDEX_PREFIX, parseAzulIndexKey, streamSpoolPrefix } from '../../connectors/layouts/azul/objects.js';
import { KafkaProducer, type OutgoingRecord } from '../../runtime/kafka/producer.js';
import { vectorEvents } from '../helpers/azul-vectors.js';
import { startDispatcherDouble, type DispatcherDouble, type FailureRule } from '../helpers/dispatcher-double.js';
import { bootstrap, createTopic } from '../helpers/kafka.js';
import { listKeys, s3Client } from '../helpers/s3.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { freePort, WorkerProcess } from '../helpers/worker-process.js';
import {
  committedOffsets,
  expectHealthy,
  logTail,
  metricTotal,
  noKills,
  pick,
  randomInt,
  runThenKill,
  sleep,
  startWorker,
  summary,
  tasksOf,
  until,
  type TaskState,
} from './fault-kit.js';

import {
  AzulReport,
  BucketReader,
  CONFLICT,
  EventMaker,
  LABEL,
  TopicSpec,
  addLosses,
  azulConnector,
  binaryTopic,
  checkBackup,
  invalidRecord,
  localReader,
  s3Reader,
  shaPath,
  spoolEntries,
  streamsPath,
} from './azul-kit.js';

describe('BackupSink layout azul: kill -9 at random moments, every event, record and blob exactly once', () => {
  const KILLS = 22;
  const PARTITIONS = 3;
  /** Events per binary partition per production tick (one tick about every 200 ms). */
  const PER_TICK = 3;
  const dir = tmpDir('faults-azul-kill');
  let worker: WorkerProcess | undefined;
  let producer: KafkaProducer | undefined;
  let double: DispatcherDouble | undefined;
  afterAll(async () => {
    await worker?.kill('SIGKILL');
    await producer?.disconnect();
    await double?.close();
  });

  it(`survives ${KILLS} SIGKILLs with nothing lost or duplicated in the event bundles, the rejects and the streams bucket`, async () => {
    const started = Date.now();
    double = await startDispatcherDouble();
    const prefix = uniqueName('fak').replace(/-/g, '');
    const label = uniqueName('fakill').toLowerCase();
    const binary = binaryTopic(prefix, 'alpha', PARTITIONS);
    const system: TopicSpec = { name: `azul.${prefix}.system.delete`, partitions: 1, model: 'delete', bundlePrefix: 'system/delete/default/' };
    await createTopic(binary.name, PARTITIONS);
    await createTopic(system.name, 1);
    const maker = new EventMaker(double, 'alpha');
    // Blobs many events share, blobs of one event each, and blobs the dispatcher does not have.
    const shared = Array.from({ length: 30 }, () => maker.blob(randomBytes(randomInt(2000, 20_000))));
    const missing = Array.from({ length: 5 }, () => maker.missing());
    let flaky = 0;
    const streamsOf = (): string[] => {
      const shas = [pick(shared)];
      const roll = Math.random();
      if (roll < 0.12) {
        const own = maker.blob();
        shas.push(own);
        // Now and then a blob's first download fails (three 503s): it is spooled, then retried.
        if (Math.random() < 0.15) {
          double!.fail({ method: 'GET', path: shaPath(own), status: 503, times: 3 });
          flaky++;
        }
      } else if (roll < 0.15) shas.push(pick(missing));
      else if (roll < 0.4) shas.push(pick(shared));
      return [...new Set(shas)];
    };
    const vectors = vectorEvents('delete');

    const name = 'azul-kill';
    const spooled = () => spoolEntries(s3Reader, label, name);
    worker = new WorkerProcess(dir, await freePort(), { 'bootstrap.servers': bootstrap(), 'offset.flush.interval.ms': 300 });
    // Spool retries 2 s apart: kills often land while streams wait in the spool.
    const extra = {
      'tasks.max': '2',
      'bundle.max.records': '25',
      'bundle.max.age.ms': '1000',
      'streams.max.consecutive.failures': '10',
      'streams.spool.retry.ms': '2000',
    };
    const connectorFile = join(dir, 'backup.json');
    writeFileSync(connectorFile, JSON.stringify({ name, config: azulConnector({ prefix, label, dispatcher: double, extra }) }));

    producer = new KafkaProducer({ bootstrapServers: bootstrap(), extra: {} }, 'faults-azul-kill-producer');
    await producer.connect();
    const produced = { binary: Array.from({ length: PARTITIONS }, () => 0), system: [0] };
    let producing = true;
    let invalid = 0;
    const production = (async () => {
      for (let tick = 0; producing; tick++) {
        const sends: Promise<unknown>[] = [];
        for (let p = 0; p < PARTITIONS; p++) {
          for (let j = 0; j < PER_TICK; j++) {
            const i = produced.binary[p]!++;
            const record =
              Math.random() < 0.04
                ? invalidRecord(binary.name, p, invalid++)
                : { topic: binary.name, partition: p, key: Buffer.from(`k-${p}-${i}`), value: maker.event(streamsOf()) };
            sends.push(producer!.send(record));
          }
        }
        if (tick % 3 === 0) {
          const v = vectors[tick % vectors.length]!;
          produced.system[0]!++;
          sends.push(producer!.send({ topic: system.name, partition: 0, key: Buffer.from(v.kafkaKey), value: v.bytes }));
        }
        await Promise.all(sends);
        await sleep(200);
      }
    })();

    const kills = noKills();
    const sequence: string[] = [];
    const client = s3Client();
    const bucket = `coldstore-${label}-events`;
    const rangeCount = async () => (await listKeys(client, bucket, AZUL_INDEX_PREFIX).catch(() => [])).length;
    let rangesBefore = 0;
    let runsWithProgress = 0;
    let killsWithSpool = 0;
    for (let run = 0; run < KILLS; run++) {
      // backup.after-upload: the range's bundle and rejects are stored, its index entry is not.
      sequence.push(await runThenKill(worker, [connectorFile], kills));
      const now = await rangeCount();
      if (now > rangesBefore) runsWithProgress++;
      rangesBefore = now;
      // What the killed run left in the spool, for the next run to drain.
      if ((await spooled()).length > 0) killsWithSpool++;
    }
    producing = false;
    await production;
    const faults = Object.values(kills).reduce((a, b) => a + b, 0);
    expect(faults).toBe(KILLS);

    // A last run, not killed, backs up what is left and drains the spool.
    expect(await startWorker(worker, [connectorFile])).toBe('started');
    const topics = [
      { spec: binary, produced: produced.binary },
      { spec: system, produced: produced.system },
    ];
    await until(
      'every offset committed and the spool drained',
      async () => {
        const committed = await committedOffsets(worker!, name);
        const done = topics.every(({ spec, produced: counts }) => counts.every((n, p) => committed.get(`${spec.name}/${p}`) === n));
        return done && (await spooled()).length === 0 ? true : undefined;
      },
      180_000,
      1_000,
    ).catch(async (err: Error) => {
      throw new Error(
        `${err.message}; committed ${JSON.stringify([...(await committedOffsets(worker!, name))])}; spool ${(await spooled()).length}\n${logTail(worker!)}`,
      );
    });
    expect(await worker.kill('SIGTERM')).toBe(0);

    const report = await checkBackup(label, topics, maker.expectedBlobs());
    const log = readFileSync(worker.logPath, 'utf8');
    const conflicts = log.split('\n').filter((line) => CONFLICT.test(line));
    const gets = double.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/api/v3/stream/'));
    const leftInSpool = await spooled();
    summary('azul-backup-kill', {
      runs: KILLS + 1,
      faults,
      'kills(random/startup/after-upload/before-commit)': `${kills.random}/${kills.startup}/${kills.afterUpload}/${kills.beforeCommit}`,
      'killed runs that wrote ranges': runsWithProgress,
      ranges: report.ranges,
      bundles: report.bundles,
      'bundles renamed/shared (re-sent events)': `${report.renamed}/${report.shared}`,
      'records checked': report.records,
      events: report.events,
      rejects: report.rejects,
      'blobs checked': report.streams,
      'stream GETs': `${gets.length} (${new Set(gets.map((r) => r.path)).size} distinct, ${gets.filter((r) => r.status === 503).length} failed on purpose for ${flaky} blobs)`,
      'kills leaving streams in the spool': killsWithSpool,
      'left in the spool': leftInSpool.length,
      lost: report.lost,
      duplicated: report.duplicated,
      mismatched: report.mismatched,
      conflicts: conflicts.length,
      seconds: Math.round((Date.now() - started) / 1000),
    });
    console.info(`[faults] azul-backup-kill sequence: ${sequence.join(' ')}`);
    expect(report.problems).toEqual([]);
    expect(report.lost).toBe(0);
    expect(report.duplicated).toBe(0);
    expect(report.mismatched).toBe(0);
    expect(report.records).toBe(produced.binary.reduce((a, b) => a + b, 0) + produced.system[0]!);
    expect(conflicts).toEqual([]);
    // An S3 put is atomic: a kill inside a spool write leaves no partial entry behind.
    expect(leftInSpool).toEqual([]);
  });
});

describe('BackupSink layout azul: the dispatcher misbehaving and a store refusing the spool, the worker staying up', () => {
  let worker: WorkerProcess;
  let double: DispatcherDouble;
  const results: string[] = [];
  const totals = { records: 0, blobs: 0, lost: 0, duplicated: 0, mismatched: 0 };

  beforeAll(async () => {
    double = await startDispatcherDouble();
    worker = new WorkerProcess(tmpDir('faults-azul-dispatcher'), await freePort(), { 'bootstrap.servers': bootstrap(), 'offset.flush.interval.ms': 300 });
    expect(await startWorker(worker, [])).toBe('started');
  });

  afterAll(async () => {
    await worker?.kill('SIGKILL');
    await double?.close();
    summary('azul-dispatcher', {
      runs: 1,
      faults: results.length,
      'records checked': totals.records,
      'blobs checked': totals.blobs,
      lost: totals.lost,
      duplicated: totals.duplicated,
      mismatched: totals.mismatched,
      cases: results.join(' | '),
    });
  });

  /** One backup of its own: a source, a 2-partition topic, a label, a connector, events produced in steps. */
  class Backup {
    readonly prefix = uniqueName('fad').replace(/-/g, '');
    readonly label = uniqueName('fazul').toLowerCase();
    readonly spec: TopicSpec;
    readonly maker: EventMaker;
    readonly produced = [0, 0];
    config: Record<string, string> = {};
    private invalid = 0;

    constructor(
      readonly name: string,
      readonly source: string,
      readonly reader: BucketReader = s3Reader,
    ) {
      this.spec = binaryTopic(this.prefix, source, 2);
      this.maker = new EventMaker(double, source);
    }

    get streamsBucket(): string {
      return `coldstore-${this.label}-streams`;
    }

    /** Where the spool is, as the task's messages name it. */
    get spoolLocation(): string {
      return `${this.streamsBucket}/${streamSpoolPrefix(this.name)}`;
    }

    spooled(): Promise<string[]> {
      return spoolEntries(this.reader, this.label, this.name);
    }

    async create(extra: Record<string, string> = {}): Promise<void> {
      await createTopic(this.spec.name, 2);
      this.config = azulConnector({ prefix: this.prefix, label: this.label, dispatcher: double, extra });
      const res = await worker.api('POST', '/connectors', { name: this.name, config: this.config });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }

    /** Produces one event per entry (its streams), alternating partitions, with an invalid record now and then; returns each event's partition and offset. */
    async produce(streams: string[][]): Promise<{ partition: number; offset: number }[]> {
      const records: OutgoingRecord[] = [];
      const placed: { partition: number; offset: number }[] = [];
      for (const [i, shas] of streams.entries()) {
        const partition = i % 2;
        if (i % 7 === 3) {
          records.push(invalidRecord(this.spec.name, partition, this.invalid++));
          this.produced[partition]!++;
        }
        placed.push({ partition, offset: this.produced[partition]!++ });
        records.push({ topic: this.spec.name, partition, key: Buffer.from(`k-${i}`), value: this.maker.event(shas) });
      }
      const producer = new KafkaProducer({ bootstrapServers: bootstrap(), extra: {} }, `faults-${this.name}`);
      await producer.connect();
      try {
        // In order, so the offsets are the ones counted above.
        for (const record of records) await producer.send(record);
      } finally {
        await producer.disconnect();
      }
      return placed;
    }

    async committed(): Promise<number[]> {
      const offsets = await committedOffsets(worker, this.name);
      return [0, 1].map((p) => offsets.get(`${this.spec.name}/${p}`) ?? 0);
    }

    /** Waits until every produced offset is committed and the spool is drained; a FAILED task ends the wait at once. */
    async waitComplete(what: string): Promise<void> {
      let last: TaskState[] = [];
      await until(
        `${this.name}: ${what}`,
        async () => {
          last = await tasksOf(worker, this.name);
          const failed = last.find((t) => t.state === 'FAILED');
          if (failed) throw new Error(`${this.name} FAILED: ${failed.trace}`);
          const committed = await this.committed();
          return committed.every((n, p) => n === this.produced[p]) && (await this.spooled()).length === 0 ? true : undefined;
        },
        90_000,
      ).catch(async (err: Error) => {
        throw new Error(
          `${err.message}; committed ${await this.committed()} of ${this.produced}; spool ${(await this.spooled()).length}; tasks ${JSON.stringify(last)}\n${logTail(worker)}`,
        );
      });
    }

    async waitFailed(): Promise<TaskState> {
      return until(`${this.name} FAILED`, async () => (await tasksOf(worker, this.name)).find((t) => t.state === 'FAILED'), 90_000).catch((err: Error) => {
        throw new Error(`${err.message}\n${logTail(worker)}`);
      });
    }

    async restartTask(): Promise<void> {
      expect((await worker.api('POST', `/connectors/${this.name}/tasks/0/restart`)).status).toBe(204);
    }

    metric(result: string): Promise<number> {
      return metricTotal(worker, 'coldstore_backup_azul_streams_total', { connector: this.name, result });
    }

    /** Proves the backup complete, deletes the connector, tallies the figures. */
    async finish(): Promise<AzulReport> {
      const report = await checkBackup(this.label, [{ spec: this.spec, produced: this.produced }], this.maker.expectedBlobs(), this.reader);
      expect((await worker.api('DELETE', `/connectors/${this.name}`)).status).toBe(204);
      totals.records += report.records;
      totals.blobs += report.streams;
      addLosses(totals, report);
      expect(report.problems).toEqual([]);
      expect(report.lost + report.duplicated + report.mismatched).toBe(0);
      expect(
        readFileSync(worker.logPath, 'utf8')
          .split('\n')
          .filter((line) => line.includes(this.name) && CONFLICT.test(line)),
      ).toEqual([]);
      await expectHealthy(worker);
      return report;
    }
  }

  /** Streams for `count` events: each refers to a blob of its own and one of a few shared ones; every seventh also to a blob the dispatcher does not have. */
  function streamsFor(maker: EventMaker, count: number): string[][] {
    const shared = Array.from({ length: 4 }, () => maker.blob());
    return Array.from({ length: count }, (_, i) => [maker.blob(), shared[i % shared.length]!, ...(i % 7 === 5 ? [maker.missing()] : [])]);
  }

  it('5xx, garbage error bodies and resets for a while: the task stays RUNNING and completes by itself', async () => {
    const b = new Backup('azul-5xx', 'fivexx');
    await b.create({ 'streams.max.consecutive.failures': '4' });
    const streams = streamsFor(b.maker, 30);
    const first = streams[2]![0]!;
    // One blob's download fails all three attempts (spooled, then retried from the spool);
    // a few more failures land on others: fewer than 4 streams in a row can fail.
    double.fail({ method: 'GET', path: shaPath(first), status: 503, times: 3 });
    double.fail({ method: 'GET', path: streamsPath(b.source), status: 502, garbage: true, times: 2 });
    double.fail({ method: 'GET', path: streamsPath(b.source), reset: true, times: 2 });
    await b.produce(streams);
    await b.waitComplete('complete by itself');
    const failedStreams = await b.metric('failed');
    const stored = await b.metric('stored');
    const states = (await tasksOf(worker, b.name)).map((t) => t.state);
    const answered = double.requests.filter((r) => r.path.startsWith(`/api/v3/stream/${b.source}/`));
    await b.finish();
    results.push(
      `5xx/garbage/resets for a while: ${states.join(',')}, ${failedStreams} stream(s) spooled and drained, ${stored} stored, ${answered.filter((r) => r.status !== 200 && r.status !== 404).length} failed answers`,
    );
    expect(states).toEqual(['RUNNING']);
    expect(failedStreams).toBeGreaterThanOrEqual(1);
  });

  it('200 with garbage bytes: a sha256 mismatch, reported and not stored; the blob is stored once an event refers to it again', async () => {
    const b = new Backup('azul-garbage', 'garbage');
    await b.create();
    const streams = streamsFor(b.maker, 20);
    const tampered = [streams[4]![0]!, streams[11]![0]!];
    double.fail({ method: 'GET', path: shaPath(...tampered), status: 200, garbage: true, times: 2 });
    await b.produce(streams);
    await b.waitComplete('the events committed');
    const mismatches = await b.metric('mismatch');
    const storedKeys = await listKeys(s3Client(), `coldstore-${b.label}-streams`);
    for (const sha of tampered) expect(storedKeys, 'garbage bytes must not be stored').not.toContain(`${b.source}/${LABEL}/${sha}`);
    expect(logTail(worker, 400)).toMatch(/sha256 does not match/);
    // The dispatcher serves the right bytes again: the next events that refer to those blobs store them.
    await b.produce(tampered.map((sha) => [sha]));
    await b.waitComplete('the blobs stored');
    await b.finish();
    results.push(`200 with garbage bytes: ${mismatches} mismatch(es) counted, not stored, stored once referred to again`);
    expect(mismatches).toBe(2);
  });

  const UNTIL_FIXED: { fault: string; id: string; rule: Omit<FailureRule, 'method' | 'path'>; extra?: Record<string, string>; trace: RegExp }[] = [
    { fault: '403', id: 'forbidden', rule: { status: 403 }, trace: /answered 403 .*dispatcher\.auth\.token/ },
    { fault: 'connection resets', id: 'resets', rule: { reset: true }, trace: /network error/ },
    { fault: 'hangs', id: 'hangs', rule: { hang: true }, extra: { 'dispatcher.timeout.ms': '1000' }, trace: /no answer within 1000 ms/ },
  ];

  it.each(UNTIL_FIXED)(
    '$fault until fixed: FAILED with DISPATCHER_FAILED and the spool in the streams bucket; restarted once fixed, it completes',
    async ({ fault, id, rule, extra, trace }) => {
      const b = new Backup(`azul-${id}`, id);
      await b.create({ 'streams.max.consecutive.failures': '3', 'streams.max.in.flight': '4', ...extra });
      const before = streamsFor(b.maker, 10);
      await b.produce(before);
      await b.waitComplete('the first events backed up');
      double.fail({ method: 'GET', path: streamsPath(b.source), ...rule });
      await b.produce(streamsFor(b.maker, 20));
      const failed = await b.waitFailed();
      expect(failed.trace).toContain('DISPATCHER_FAILED');
      expect(failed.trace).toMatch(trace);
      expect(failed.trace).toContain(`spooled in ${b.spoolLocation}`);
      expect(failed.trace).toMatch(/nothing is lost/);
      const spooled = (await b.spooled()).length;
      expect(spooled, 'the failed streams wait in the spool').toBeGreaterThan(0);
      const failures = await b.metric('failed');
      expect(failures).toBeGreaterThanOrEqual(3);
      const committedAtFailure = await b.committed();
      await expectHealthy(worker);

      double.clearFailures();
      await b.restartTask();
      await b.waitComplete('complete after the restart');
      const report = await b.finish();
      results.push(
        `${fault}: FAILED DISPATCHER_FAILED (${failures} streams failed or spooled after the failure, ${spooled} in the spool, committed ${committedAtFailure.join('+')} of ${b.produced.join('+')}), restarted: ${report.streams} blobs stored, spool drained`,
      );
    },
  );

  it('the store refusing the spool write while a stream fails: STORE_IO naming the spool, nothing committed past the range; done once it accepts again', async () => {
    // A local store, so the refusal can be aimed at the spool alone: stream blobs and
    // event bundles beside it keep being written.
    const root = tmpDir('faults-azul-refusing-store');
    const b = new Backup('azul-spool-refused', 'spoolrefused', localReader(root));
    await b.create({ 'storage.type': 'local', 'local.root': root, 'streams.max.consecutive.failures': '5' });
    await b.produce(streamsFor(b.maker, 16));
    await b.waitComplete('the first events backed up');

    // A file where the connector's spool directory must be: every spool write fails. A
    // read-only directory would not stop root, which these tests run as.
    const blocker = join(root, b.streamsBucket, ...streamSpoolPrefix(b.name).split('/').filter(Boolean));
    rmSync(blocker, { recursive: true, force: true });
    mkdirSync(dirname(blocker), { recursive: true });
    writeFileSync(blocker, 'in the way of the spool');
    const streams = streamsFor(b.maker, 16);
    const stuck = streams[6]![0]!;
    double.fail({ method: 'GET', path: shaPath(stuck), status: 503 });
    const placed = await b.produce(streams);
    const at = placed[6]!;
    const failed = await b.waitFailed();
    expect(failed.trace).toContain('STORE_IO');
    expect(failed.trace).toContain(`cannot be spooled in ${b.spoolLocation}`);
    expect(failed.trace).toMatch(/ENOTDIR|EEXIST|not a directory/);
    expect(failed.trace).toMatch(/the events that refer to it are not committed/);
    await sleep(1_000);
    // Nothing past the range holding the stuck event is committed, and no index entry covers it.
    const committed = await b.committed();
    expect(committed[at.partition]!).toBeLessThanOrEqual(at.offset);
    const covering = (await b.reader.keys(`coldstore-${b.label}-events`, `${AZUL_INDEX_PREFIX}${b.spec.name}/${at.partition}/`))
      .map((k) => parseAzulIndexKey(k)!)
      .filter((r) => r.start <= BigInt(at.offset) && BigInt(at.offset) <= r.end);
    expect(covering).toEqual([]);
    await expectHealthy(worker);

    // The store accepts spool writes again; the stream fails once more after the restart, so the spool is used (and drained).
    rmSync(blocker);
    double.clearFailures();
    double.fail({ method: 'GET', path: shaPath(stuck), status: 503, times: 3 });
    const failedBefore = await b.metric('failed');
    await b.restartTask();
    await b.waitComplete('complete once the store accepts the spool again');
    const spooledAfter = (await b.metric('failed')) - failedBefore;
    expect(spooledAfter, 'the stuck stream went through the spool after the fix').toBeGreaterThanOrEqual(1);
    const report = await b.finish();
    results.push(
      `store refusing the spool: FAILED STORE_IO naming ${b.spoolLocation}, committed ${committed[at.partition]} ≤ stuck offset ${at.offset}; once accepted, ${spooledAfter} spooled and drained, ${report.streams} blobs stored`,
    );
  });
});
