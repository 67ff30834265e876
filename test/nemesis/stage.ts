/**
 * The stage the nemesis plays on, all of it the test's own so it can be harmed without
 * touching the shared stack: a Kafka broker, an S3 server behind a fault proxy, the Azul
 * dispatcher double, and a cluster of three workers, each in a network namespace of its own.
 * The S3 server keeps its data on a file system of its own, so the nemesis can fill it. Torn down completely, even after a failure.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { inject } from 'vitest';
import { KafkaAdmin } from '../../runtime/kafka/admin.js';
import { binaryTopic, EventMaker, type TopicSpec } from '../faults/azul-kit.js';
import { Cluster } from '../faults/cluster-kit.js';
import { SmallDisk } from '../faults/fault-kit.js';
import { PrivateKafka } from '../faults/private-kafka.js';
import type { SeededRandom } from '../faults/zombie-kit.js';
import { CLUSTER_SESSION_TIMEOUT_MS } from '../helpers/cluster-config.js';
import { startDispatcherDouble } from '../helpers/dispatcher-double.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { freePort } from '../helpers/worker-process.js';
import { stackS3Settings } from '../stack/s3-access.js';
import { PrivateS3 } from '../stack/s3proxy.js';
import type { NemesisWorker, Targets } from './fault-kinds.js';
import { NetNamespace } from './netns.js';
import { S3FaultProxy } from './s3-fault-proxy.js';
import { PARTITIONS, type WorkloadTopics } from './workload.js';

/** The S3 server's data directory: room for a long run's objects, filled by the nemesis in a moment. */
const STORE_DISK_MB = 128;

export interface Stage extends Targets {
  cluster: Cluster;
  topics: WorkloadTopics;
  azulSpec: TopicSpec;
  labels: { plain: string; azul: string };
  /** The settings that point a connector at the S3 server through the fault proxy. */
  storage: Record<string, string>;
  maker: EventMaker;
  sharedBlobs: string[];
}

const portOf = (address: string) => Number(new URL(address.includes('://') ? address : `tcp://${address}`).port);

export async function buildStage(rng: SeededRandom): Promise<Stage> {
  const dir = tmpDir('nemesis');
  const id = uniqueName('nem')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
  const partial: Partial<Stage> & { workers: NemesisWorker[] } = { workers: [] };
  stages.push(partial);
  const kafka = (partial.kafka = await PrivateKafka.create(join(dir, 'kafka')));
  await kafka.start();
  partial.s3Disk = new SmallDisk(join(dir, 's3', 'data'), STORE_DISK_MB);
  const s3 = (partial.s3 = new PrivateS3(join(dir, 's3'), await freePort()));
  await s3.start();
  const proxy = (partial.proxy = await S3FaultProxy.start(s3.endpoint));
  const dispatcher = (partial.dispatcher = await startDispatcherDouble());

  const azulSpec = binaryTopic(id, 'alpha', PARTITIONS.azul);
  const topics: WorkloadTopics = { plain: `${id}-plain`, compacted: `${id}-compacted`, transactional: `${id}-tx`, azul: azulSpec.name };
  const admin = new KafkaAdmin({ bootstrapServers: kafka.bootstrap, extra: {} }, 'nemesis-admin');
  try {
    for (const [name, topic] of Object.entries(topics) as [keyof WorkloadTopics, string][]) {
      await admin.createTopic(topic, PARTITIONS[name], { configs: name === 'compacted' ? { 'cleanup.policy': 'compact' } : {} });
    }
  } finally {
    admin.disconnect();
  }

  const cluster = (partial.cluster = new Cluster(dir, `nemesis-${id}`));
  const members = [];
  for (const name of ['w1', 'w2', 'w3']) members.push(await cluster.add(name, { 'bootstrap.servers': kafka.bootstrap }));
  const dispatcherPort = portOf(dispatcher.url);
  for (const m of members) {
    const others = members.filter((o) => o !== m).map((o) => o.worker.port);
    const ns = await NetNamespace.create({ hostPorts: [kafka.port, proxy.port, dispatcherPort, ...others], exposedPorts: [m.worker.port] });
    partial.workers.push({ name: m.name, worker: m.worker, ns, busy: new Set() });
    m.worker.commandPrefix = ns.execPrefix();
  }
  await Promise.all(members.map((m) => m.worker.start()));

  const maker = new EventMaker(dispatcher, 'alpha');
  const sharedBlobs = Array.from({ length: 20 }, () => maker.blob(randomBytes(rng.int(2_000, 20_000))));
  return {
    ...(partial as Required<typeof partial>),
    sessionTimeoutMs: CLUSTER_SESSION_TIMEOUT_MS,
    topics,
    azulSpec,
    labels: { plain: `${id}-kafka`, azul: `${id}-azul` },
    storage: { ...stackS3Settings(inject('stack')), 's3.endpoint': proxy.endpoint },
    maker,
    sharedBlobs,
  };
}

const stages: (Partial<Stage> & { workers: NemesisWorker[] })[] = [];

/** Stops everything the stages started (workers, namespaces, disks, servers); safe after a half-built stage. */
export async function tearDownStages(): Promise<void> {
  for (const stage of stages.splice(0)) {
    for (const w of stage.cluster?.members ?? []) {
      w.worker.resume();
      await w.worker.kill('SIGKILL').catch(() => undefined);
    }
    for (const w of stage.workers) await w.ns.destroy().catch(() => undefined);
    stage.dispatcher?.clearFailures();
    await stage.dispatcher?.close().catch(() => undefined);
    await stage.proxy?.close().catch(() => undefined);
    if (stage.s3?.pid) process.kill(stage.s3.pid, 'SIGCONT');
    await stage.s3?.stop().catch(() => undefined);
    stage.s3Disk?.destroy();
    if (stage.kafka?.pid) process.kill(stage.kafka.pid, 'SIGCONT');
    await stage.kafka?.stop().catch(() => undefined);
  }
}

/** Heals every fault a lane may have left behind when a run failed half-way. */
export function healEverything(stage: Stage): void {
  for (const w of stage.workers) {
    w.ns.heal();
    w.worker.resume();
  }
  stage.s3Disk.free();
  for (const pid of [stage.kafka.pid, stage.s3.pid]) if (pid !== undefined) process.kill(pid, 'SIGCONT');
  stage.proxy.heal();
  stage.dispatcher.clearFailures();
}
