/**
 * Cluster mode under faults, layout azul (issue 14): a BackupSink with layout azul and 4
 * tasks on a cluster of up to four workers, against the dispatcher double serving real
 * blobs, while Azul events flow (shared blobs, blobs of their own, blobs the dispatcher
 * does not have, some whose first download fails so the spool — in the object store — is
 * in use, and invalid records). A seeded nemesis (COLDSTORE_CLUSTER_SEED,
 * COLDSTORE_CLUSTER_FAULTS) kills (-9), pauses past the session timeout, restarts, adds and
 * removes workers. Afterwards the azul checker proves every event, reject and blob exactly
 * once, and the spool drained by whichever worker held the tasks last.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { KafkaProducer } from '../../runtime/kafka/producer.js';
import { vectorEvents } from '../helpers/azul-vectors.js';
import { startDispatcherDouble, type DispatcherDouble } from '../helpers/dispatcher-double.js';
import { bootstrap, createTopic } from '../helpers/kafka.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { azulConnector, binaryTopic, checkBackup, EventMaker, invalidRecord, s3Reader, shaPath, spoolEntries, type TopicSpec } from './azul-kit.js';
import { Cluster, fencedCount, nemesis } from './cluster-kit.js';
import { sleep, summary, until } from './fault-kit.js';
import { SeededRandom } from './zombie-kit.js';

const PARTITIONS = 3;
const PER_TICK = 3;
const FAULTS = Number(process.env['COLDSTORE_CLUSTER_FAULTS'] ?? 30);
const NAME = 'azul';

describe('cluster mode: azul BackupSink, events and blobs exactly once while workers are killed, paused, restarted, added and removed', () => {
  const cluster = new Cluster(tmpDir('faults-cluster-azul'), uniqueName('fclaz').toLowerCase());
  let producer: KafkaProducer | undefined;
  let double: DispatcherDouble | undefined;
  let producing = false;
  afterAll(async () => {
    producing = false;
    await cluster.killAll();
    await producer?.disconnect();
    await double?.close();
  });

  it(`survives ${FAULTS} random faults: nothing lost or duplicated in the event bundles, the rejects and the streams bucket`, async () => {
    const rng = SeededRandom.fromEnv('COLDSTORE_CLUSTER_SEED');
    console.info(`[faults] cluster-azul seed=${rng.seed} (replay: COLDSTORE_CLUSTER_SEED=${rng.seed})`);
    double = await startDispatcherDouble();
    const prefix = uniqueName('fcaz').replace(/-/g, '');
    const label = uniqueName('fclaz').toLowerCase();
    const binary = binaryTopic(prefix, 'alpha', PARTITIONS);
    const system: TopicSpec = { name: `azul.${prefix}.system.delete`, partitions: 1, model: 'delete', bundlePrefix: 'system/delete/default/' };
    await createTopic(binary.name, PARTITIONS);
    await createTopic(system.name, 1);
    const maker = new EventMaker(double, 'alpha');
    const shared = Array.from({ length: 30 }, () => maker.blob(randomBytes(rng.int(2000, 20_000))));
    const missing = Array.from({ length: 5 }, () => maker.missing());
    let flaky = 0;
    const streamsOf = (): string[] => {
      const shas = [rng.pick(shared)];
      const roll = rng.next();
      if (roll < 0.12) {
        const own = maker.blob();
        shas.push(own);
        if (rng.next() < 0.2) {
          double!.fail({ method: 'GET', path: shaPath(own), status: 503, times: 3 });
          flaky++;
        }
      } else if (roll < 0.15) shas.push(rng.pick(missing));
      else if (roll < 0.4) shas.push(rng.pick(shared));
      return [...new Set(shas)];
    };
    const vectors = vectorEvents('delete');

    for (const name of ['w1', 'w2', 'w3', 'w4']) await cluster.add(name);
    await Promise.all(cluster.members.slice(0, 3).map((m) => m.worker.start()));
    const extra = {
      'tasks.max': '4',
      'bundle.max.records': '25',
      'bundle.max.age.ms': '1000',
      'streams.max.consecutive.failures': '10',
      'streams.spool.retry.ms': '2000',
    };
    const created = await cluster.api('POST', '/connectors', { name: NAME, config: azulConnector({ prefix, label, dispatcher: double, extra }) });
    expect(created.status, JSON.stringify(created.body)).toBe(201);

    producer = new KafkaProducer({ bootstrapServers: bootstrap(), extra: {} }, 'faults-cluster-azul-producer');
    await producer.connect();
    const produced = { binary: Array.from({ length: PARTITIONS }, () => 0), system: [0] };
    producing = true;
    let invalid = 0;
    const production = (async () => {
      for (let tick = 0; producing; tick++) {
        const sends: Promise<unknown>[] = [];
        for (let p = 0; p < PARTITIONS; p++) {
          for (let j = 0; j < PER_TICK; j++) {
            const i = produced.binary[p]!++;
            const record =
              rng.next() < 0.04
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

    const counts = await nemesis(cluster, rng, FAULTS, (line) => console.info(`[faults] cluster-azul ${line}`));
    producing = false;
    await production;
    for (const m of cluster.stopped()) await m.worker.start();

    const topics = [
      { spec: binary, produced: produced.binary },
      { spec: system, produced: produced.system },
    ];
    const spooled = () => spoolEntries(s3Reader, label, NAME);
    await until(
      'every offset committed and the spool drained',
      async () => {
        const answer = await cluster.api('GET', `/connectors/${NAME}/offsets`);
        const committed = new Map<string, number>();
        for (const e of (answer.body?.offsets ?? []) as {
          partition: { kafka_topic: string; kafka_partition: number };
          offset: { kafka_offset: number } | null;
        }[]) {
          if (e.offset) committed.set(`${e.partition.kafka_topic}/${e.partition.kafka_partition}`, Number(e.offset.kafka_offset));
        }
        const done = topics.every(({ spec, produced: n }) => n.every((count, p) => committed.get(`${spec.name}/${p}`) === count));
        return done && (await spooled()).length === 0 ? true : undefined;
      },
      180_000,
      1_000,
    );
    const report = await checkBackup(label, topics, maker.expectedBlobs());
    const fenced = cluster.members.map((m) => ({ name: m.name, zombies: m.zombies, fenced: fencedCount(m.worker) }));
    summary('cluster-azul', {
      seed: rng.seed,
      faults: FAULTS,
      ...counts,
      ranges: report.ranges,
      bundles: report.bundles,
      events: report.events,
      rejects: report.rejects,
      blobs: report.streams,
      'flaky blobs': flaky,
      lost: report.lost,
      duplicated: report.duplicated,
      mismatched: report.mismatched,
      zombiesFenced: fenced.map((f) => `${f.name}:${f.fenced}/${f.zombies}`).join(','),
    });
    expect(report.problems).toEqual([]);
    expect(report.lost).toBe(0);
    expect(report.duplicated).toBe(0);
    expect(report.mismatched).toBe(0);
    expect(report.records).toBe(produced.binary.reduce((a, b) => a + b, 0) + produced.system[0]!);
    for (const f of fenced) expect(f.fenced, `${f.name}: every pause past the session timeout is logged as fenced`).toBeGreaterThanOrEqual(f.zombies);
  });
});
