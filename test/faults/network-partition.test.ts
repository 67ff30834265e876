/**
 * A network partition (the first nemesis building block, test/nemesis/netns.ts): a cluster
 * of three workers backs up a topic written all along; w3 lives in a network namespace of
 * its own, reaching Kafka, S3 and the other workers only through a veth pair. Its network
 * is cut for longer than the session timeout (w1 and w2 must take its tasks over while it
 * still runs, cut off, with uploads hanging), then healed; then it suffers a period of 2 s
 * more per round trip and 10% packet loss. Afterwards an independent reader proves every
 * produced offset exactly once in S3 with no overlapping bundles, and the namespace, its
 * veth pair, the forwarders and the workers are all gone.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { KafkaProducer } from '../../runtime/kafka/producer.js';
import { readPartitions } from '../helpers/broker-records.js';
import { bootstrap, createTopic } from '../helpers/kafka.js';
import { listKeys, s3Client, s3Settings } from '../helpers/s3.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { processAlive } from '../nemesis/netns-host.js';
import { NetNamespace, removeSuiteNetworks, suiteLeftovers } from '../nemesis/netns.js';
import { Cluster, fencedCount, SESSION_TIMEOUT_MS, SteadyProduction, type ClusterMember } from './cluster-kit.js';
import { logTail, proveExactlyOnce, recordDifferences, sleep, summary, until } from './fault-kit.js';
import { fetchBundles, logMessageCounts, untilCovered } from './zombie-kit.js';

const PARTITIONS = 6;
const TASKS = 6;
/** Records per partition per 100 ms tick: ~120 records/s in all. */
const PER_TICK = 2;
const CUT_MS = SESSION_TIMEOUT_MS + 8_000;
const DEGRADED_MS = 25_000;

const REOPENED = 'still a member with the same assignment after the pause; taking its work back';
const TASK_FAILED = 'task failed; fix the cause and restart the task';

const portOf = (url: string) => Number(new URL(url.includes('://') ? url : `tcp://${url}`).port);

/** The connector's tasks as one member reports them, or undefined if it does not answer within `ms` (a cut-off member never does). */
async function tasksVia(member: ClusterMember, ms = 3_000): Promise<{ id: number; state: string; worker_id: string }[] | undefined> {
  try {
    const res = await fetch(`${member.worker.url}/connectors/backup/status`, { signal: AbortSignal.timeout(ms) });
    return res.status === 200 ? (((await res.json()) as { tasks?: [] }).tasks ?? []) : undefined;
  } catch {
    return undefined;
  }
}

/** Resolves once `via` reports every task RUNNING on one of `on`; returns the placement. */
async function untilPlaced(via: ClusterMember, on: readonly string[], timeoutMs: number, members: readonly ClusterMember[]): Promise<string> {
  let last = '';
  return until(
    `tasks RUNNING on ${on.join('/')}`,
    async () => {
      const tasks = (await tasksVia(via)) ?? [];
      last = tasks.map((t) => `${t.id}:${t.state}@${t.worker_id}`).join(' ');
      return tasks.length === TASKS && tasks.every((t) => t.state === 'RUNNING' && on.includes(t.worker_id)) ? last : undefined;
    },
    timeoutMs,
    300,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last ${last}\n${members.map((m) => `${m.name}:\n${logTail(m.worker, 10)}`).join('\n')}`);
  });
}

describe('cluster mode: BackupSink exactly once while one worker is cut off the network, then on a slow, lossy link', () => {
  const dir = tmpDir('faults-network-partition');
  const cluster = new Cluster(dir, uniqueName('fnetp').toLowerCase());
  let ns: NetNamespace | undefined;
  let producer: KafkaProducer | undefined;
  let production: SteadyProduction | undefined;

  beforeAll(async () => {
    await removeSuiteNetworks();
  });
  afterAll(async () => {
    void production?.stop();
    await cluster.killAll();
    await ns?.destroy();
    await removeSuiteNetworks({ includeOwn: true });
    await producer?.disconnect();
  });

  it('hands the cut-off worker tasks over, takes it back once healed, survives 2 s + 10% loss: zero lost, zero duplicated, nothing left behind', async () => {
    const topic = uniqueName('fnetp');
    const label = uniqueName('fnetp').toLowerCase();
    const bucket = `coldstore-${label}-events`;
    await createTopic(topic, PARTITIONS);
    const [w1, w2, w3] = [await cluster.add('w1'), await cluster.add('w2'), await cluster.add('w3')];
    const stack = inject('stack');
    ns = await NetNamespace.create({
      hostPorts: [portOf(bootstrap()), portOf(stack.s3Endpoint), portOf(stack.kmsEndpoint), w1.worker.port, w2.worker.port],
      exposedPorts: [w3.worker.port],
    });
    w3.worker.commandPrefix = ns.execPrefix();
    await Promise.all([w1, w2, w3].map((m) => m.worker.start()));
    expect(ns.pids(), 'w3 runs inside the namespace').toContain(w3.worker.pid);

    const created = await cluster.api('POST', '/connectors', {
      name: 'backup',
      config: {
        'connector.class': 'BackupSink',
        topics: topic,
        'tasks.max': String(TASKS),
        'backup.label': label,
        'bundle.max.records': '200',
        'bundle.max.age.ms': '1000',
        'gzip.level': '1',
        'consumer.override.session.timeout.ms': String(SESSION_TIMEOUT_MS),
        'consumer.override.heartbeat.interval.ms': '1000',
        ...s3Settings(),
      },
    });
    expect(created.status).toBe(201);

    producer = new KafkaProducer({ bootstrapServers: bootstrap(), extra: {} }, 'faults-netp-producer');
    await producer.connect();
    production = new SteadyProduction(producer, topic, PARTITIONS, PER_TICK, label);
    production.start();

    const everyone = ['w1', 'w2', 'w3'];
    await untilPlaced(w1, everyone, 60_000, cluster.members);
    const before = await tasksVia(w1);
    expect(new Set(before!.map((t) => t.worker_id)), 'every worker holds tasks before the cut').toEqual(new Set(everyone));
    // Cut w3 in the middle of its work: once every partition, its own included, has bundles in S3.
    const partitionsBackedUp = async () => {
      const keys = await listKeys(s3Client(), bucket).catch(() => []);
      const seen = new Set(keys.map((k) => /\/(\d+)\/\d+-\d+\.avro\.gz$/.exec(k)?.[1]).filter((p) => p !== undefined));
      return seen.size === PARTITIONS ? true : undefined;
    };
    await until('a bundle of every partition in S3', partitionsBackedUp, 60_000);

    // The partition: w3 keeps running, cut off from Kafka, S3 and the other workers.
    const cutAt = Date.now();
    ns.cut();
    const handedOver = await untilPlaced(w1, ['w1', 'w2'], SESSION_TIMEOUT_MS + 30_000, cluster.members);
    const handoverMs = Date.now() - cutAt;
    expect(await tasksVia(w3, 2_000), 'w3 answers nothing while cut off').toBeUndefined();
    await sleep(Math.max(0, CUT_MS - (Date.now() - cutAt)));
    ns.heal();
    await until('w3 answering again', async () => ((await tasksVia(w3)) ? true : undefined), 60_000);
    await untilPlaced(w1, everyone, 90_000, cluster.members);
    const w3Holds = async () => ((await tasksVia(w1))?.some((t) => t.worker_id === 'w3' && t.state === 'RUNNING') ? true : undefined);
    const rejoined = await until('w3 holding tasks again', w3Holds, 60_000).catch(() => false);

    // The bad link, once w3 consumes again: slow and lossy, longer than several session timeouts.
    const assignedToW3 = () => logMessageCounts(w3.worker.logPath, ['partitions assigned'])['partitions assigned']!;
    const assignedBefore = assignedToW3();
    await until('w3 consuming partitions again', async () => (assignedToW3() > assignedBefore ? true : undefined), 60_000);
    const degradedFrom = assignedToW3();
    ns.delay(2_000, 200);
    ns.loss(10);
    await sleep(DEGRADED_MS);
    ns.heal();
    const reassignedWhileDegraded = assignedToW3() - degradedFrom;
    await untilPlaced(w1, everyone, 120_000, cluster.members);
    await sleep(5_000);
    const produced = await production.stop();

    const uncovered = await untilCovered(s3Client(), bucket, topic, produced, 30_000, 150_000);
    await sleep(3_000); // a late upload of the cut-off worker would land now
    const objects = await fetchBundles(s3Client(), bucket);
    const source = await readPartitions(produced.map((count, partition) => ({ topic, partition, count })));
    const report = proveExactlyOnce(topic, PARTITIONS, objects, source, recordDifferences);
    const fenced = fencedCount(w3.worker);
    // A cut-off worker must not take its stale tasks back after the heal (it rejoined: a new member); tasks FAILED are shown.
    const reopened = logMessageCounts(w3.worker.logPath, [REOPENED])[REOPENED]!;
    const failedTasks = cluster.members.reduce((n, m) => n + logMessageCounts(m.worker.logPath, [TASK_FAILED])[TASK_FAILED]!, 0);

    // Nothing may outlive the test: workers, forwarders, the namespace, the veth pair.
    const processes = [...cluster.members.map((m) => m.worker.pid), ...ns.forwarderPids()].filter((pid): pid is number => pid !== undefined);
    for (const m of cluster.members) await m.worker.terminate(20_000);
    const namespace = ns.name;
    const veth = ns.hostVeth;
    await ns.destroy();
    ns = undefined;
    const left = suiteLeftovers();
    summary('network-partition', {
      cutMs: CUT_MS,
      handoverMs,
      degradedMs: DEGRADED_MS,
      records: source.length,
      bundles: report.bundles,
      lost: report.lost,
      duplicated: report.duplicated,
      w3Fenced: fenced,
      w3Rejoined: rejoined ? 'yes' : 'no',
      w3AssignedWhileDegraded: reassignedWhileDegraded,
      w3TookStaleWorkBack: reopened,
      tasksFailed: failedTasks,
      placementAfterCut: handedOver.replaceAll(' ', ','),
    });
    expect(uncovered, 'every produced offset reached S3').toEqual([]);
    expect(report.problems).toEqual([]);
    expect(report.lost).toBe(0);
    expect(report.duplicated).toBe(0);
    expect(report.mismatched).toBe(0);
    expect(fenced, 'w3 saw the group go on without it').toBeGreaterThanOrEqual(1);
    expect(reopened, 'w3 took the tasks it held before the cut back after the heal, though they had moved').toBe(0);
    expect(left.namespaces).not.toContain(namespace);
    expect(left.links).not.toContain(veth);
    expect(processes.filter(processAlive), 'no worker or forwarder outlives the test').toEqual([]);
  });
});
