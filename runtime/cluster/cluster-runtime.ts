import { readFileSync } from 'node:fs';
import { ColdstoreError, ErrorCodes, isRetriable } from '../api/errors.js';
import { Backoff, retry } from '../api/retry.js';
import type { WorkerConfig } from '../config/worker-config.js';
import { KafkaAdmin } from '../kafka/admin.js';
import type { KafkaConnection } from '../kafka/client-config.js';
import { GroupMembership } from '../kafka/group-membership.js';
import { KafkaLog } from '../kafka/kafka-log.js';
import { TransactionalWriter } from '../kafka/transactional-writer.js';
import type { PluginRegistry } from '../plugins/registry.js';
import type { Forwarding } from '../rest/forwarding.js';
import type { CheckpointStore } from '../storage/checkpoint-store.js';
import { KafkaCheckpointStore, StateTable } from '../storage/kafka-checkpoint-store.js';
import type { Logger } from '../telemetry/logger.js';
import type { Worker } from '../worker/worker.js';
import { ClusterHerder } from './cluster-herder.js';
import { falseAlarmCheck, type FenceCause } from './fence-gate.js';
import { ClusterLeader, parseWorkerClientId, workerClientId } from './cluster-leader.js';
import { fingerprint } from '../config/fingerprint.js';
import { currentAssignment } from './config-topic.js';
import { ensureStateTopics, stateTopics, type StateTopic } from './state-topics.js';
import { StatusBoard } from './status-board.js';

/** How long a starting worker retries a group or state-topic check that failed retriably (a broker restarting, a coordinator not ready or moving). */
const START_RETRY_MS = 120_000;

interface ClusterIdentity {
  groupId: string;
  offsetTopic: string;
  statusTopic: string;
}

/** One state topic as this worker reads and writes it. */
class StateTopicHandle {
  readonly table = new StateTable();
  readonly log: KafkaLog;
  readonly store: KafkaCheckpointStore;

  constructor(connection: KafkaConnection, topic: StateTopic, writerId: string, clientId: string, transactional: boolean) {
    this.log = new KafkaLog(connection, clientId, topic.name, topic.partitions, (record) => this.table.apply(record));
    this.store = new KafkaCheckpointStore(this.table, this.log, new TransactionalWriter(connection, writerId, topic.name, transactional));
  }
}

/** Refuses a group.id that another kind of group uses, or workers whose storage topics differ from this one's. */
async function checkGroup(admin: KafkaAdmin, groupId: string, topicsFingerprint: string): Promise<void> {
  const members = await admin.groupMembers(groupId);
  const strangers = members.filter((m) => !parseWorkerClientId(m.clientId));
  if (strangers.length > 0) {
    throw new ColdstoreError(
      ErrorCodes.CLUSTER_SETUP_INVALID,
      `group.id ${groupId} is in use by consumers that are not coldstore workers (${strangers.map((m) => m.clientId).join(', ')}); nothing was written. Give the cluster its own group.id.`,
    );
  }
  const others = members.filter((m) => parseWorkerClientId(m.clientId)!.topics !== topicsFingerprint);
  if (others.length > 0) {
    throw new ColdstoreError(
      ErrorCodes.CLUSTER_SETUP_INVALID,
      `Workers ${others.map((m) => parseWorkerClientId(m.clientId)!.workerId).join(', ')} of group ${groupId} use other storage topics (config.storage.topic, offset.storage.topic, status.storage.topic) than this worker; nothing was written. Give every worker of a cluster the same settings.`,
    );
  }
}

export function topicsFingerprint(config: WorkerConfig): string {
  return fingerprint(stateTopics(config).map((t) => t.name)).slice(0, 8);
}

/** The first worker records which topics the cluster uses; a worker configured otherwise refuses to start. */
async function checkIdentity(configs: StateTopicHandle, identity: ClusterIdentity, topic: string): Promise<void> {
  await configs.log.readToEnd();
  const recorded = configs.table.get<ClusterIdentity>('cluster', 'identity');
  if (!recorded) return configs.store.write('cluster', { identity });
  const differences = (Object.keys(identity) as (keyof ClusterIdentity)[]).filter((k) => recorded[k] !== identity[k]);
  if (differences.length > 0) {
    throw new ColdstoreError(
      ErrorCodes.CLUSTER_SETUP_INVALID,
      `config.storage.topic ${topic} belongs to a cluster with ${differences.map((k) => `${k}=${recorded[k]}`).join(', ')}, but this worker has ${differences
        .map((k) => `${k}=${identity[k]}`)
        .join(', ')}; nothing was written. Give every worker of a cluster the same group.id and storage topics.`,
    );
  }
}

export interface ClusterRuntime {
  herder: ClusterHerder;
  /** The offsets topic as the leader writes it (fenced by the next leader); reads are every worker's. */
  leaderStore: CheckpointStore;
  forwarding: Forwarding;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Cluster mode: checks and opens the state topics, then builds the worker's store (the
 * offsets topic), its herder and leader. Throws before writing anything when the topics
 * or the group cannot hold the cluster's state safely.
 */
export async function openCluster(config: WorkerConfig, connection: KafkaConnection, workerId: string, log: Logger) {
  const groupId = config['group.id']!;
  const admin = new KafkaAdmin(connection, `coldstore-${workerId}-cluster-admin`);
  const opened: StateTopicHandle[] = [];
  try {
    // A fresh cluster answers NOT_COORDINATOR until its group coordinator is ready: wait rather than exit.
    const deadline = Date.now() + START_RETRY_MS;
    const topics = await retry(
      async () => {
        await checkGroup(admin, groupId, topicsFingerprint(config));
        return ensureStateTopics(admin, stateTopics(config));
      },
      {
        retryable: (err) => isRetriable(err) && Date.now() < deadline,
        delays: new Backoff(500, 5_000),
        onRetry: (err, failures) => log.warn({ err, failures }, 'cluster state not ready yet; retrying'),
      },
    );
    const [configTopic, offsetTopic, statusTopic] = topics as [StateTopic, StateTopic, StateTopic];
    const writer = (topic: string) => `coldstore-${groupId}-worker-${workerId}-${topic}`;
    // Only the leader writes the config topic transactionally (this worker's own writer records the
    // cluster's identity once), and status needs no atomicity: a killed worker can leave no open
    // transaction that would hold back every reader of those topics.
    const handles = {
      configs: new StateTopicHandle(connection, configTopic, writer('configs'), `coldstore-${workerId}-configs`, false),
      offsets: new StateTopicHandle(connection, offsetTopic, writer('offsets'), `coldstore-${workerId}-offsets`, true),
      status: new StateTopicHandle(connection, statusTopic, writer('status'), `coldstore-${workerId}-status`, false),
    };
    opened.push(...Object.values(handles));
    await Promise.all(opened.map((h) => h.log.start()));
    await checkIdentity(handles.configs, { groupId, offsetTopic: offsetTopic.name, statusTopic: statusTopic.name }, configTopic.name);
    log.info({ groupId, topics: topics.map((t) => t.name) }, 'cluster state topics ready');
    return { admin, handles, groupId, offsetTopic: offsetTopic.name };
  } catch (err) {
    // A worker refused at start exits: nothing it opened may keep it alive.
    for (const handle of opened) {
      await handle.log.stop().catch(() => undefined);
      await handle.store.close().catch(() => undefined);
    }
    admin.disconnect();
    throw err;
  }
}

export type OpenedCluster = Awaited<ReturnType<typeof openCluster>>;

function advertisedUrl(config: WorkerConfig, port: () => number): string {
  const scheme = config['rest.tls.cert.file'] ? 'https' : 'http';
  return config['rest.advertised.url'] ?? `${scheme}://${config['rest.host']}:${port()}`;
}

/** Wires the worker into the cluster once its store is the offsets topic. */
export function clusterRuntime(opened: OpenedCluster, worker: Worker, plugins: PluginRegistry, restPort: () => number): ClusterRuntime {
  const { handles, groupId, offsetTopic } = opened;
  const config = worker.config;
  worker.taskStores = (connector, task) => {
    const writer = new TransactionalWriter(worker.kafka, `coldstore-${groupId}-task-${connector}-${task}`, offsetTopic);
    return { store: handles.offsets.store.withWriter(writer), release: () => writer.close() };
  };
  const status = new StatusBoard(handles.status.store, worker.workerId);
  worker.activeTopicsStore = handles.status.store;
  const onLost = { handler: (_cause: FenceCause) => {} };
  const leader = new ClusterLeader({
    worker,
    groupId,
    configs: handles.configs.store,
    offsets: handles.offsets.store,
    onLost: () => onLost.handler('membership-lost'),
  });
  const herder = new ClusterHerder({
    worker,
    plugins,
    configs: handles.configs.store,
    offsets: handles.offsets.store,
    connectorWriter: (connector) => new TransactionalWriter(worker.kafka, `coldstore-${groupId}-connector-${connector}`, offsetTopic),
    status,
    leader,
  });
  const clientId = workerClientId(topicsFingerprint(config), worker.workerId);
  const stillMember = async () => (await worker.cluster.groupMembers(groupId)).some((m) => m.clientId === clientId);
  const fence = (cause: FenceCause) => {
    leader.resign();
    herder.fenced(falseAlarmCheck(cause, membership, stillMember), 2 * config['session.timeout.ms']);
  };
  onLost.handler = fence;
  const membership = new GroupMembership(worker.kafka, {
    groupId,
    clientId,
    topic: config['config.storage.topic'],
    sessionTimeoutMs: config['session.timeout.ms'],
    heartbeatIntervalMs: config['heartbeat.interval.ms'],
    onChange: (change) => leader.onMembership(change),
  });
  // A process paused past the session timeout (SIGSTOP) learns it on its first tick after.
  let lastTick = Date.now();
  const watchdog = setInterval(() => {
    const gap = Date.now() - lastTick;
    lastTick = Date.now();
    if (gap > config['session.timeout.ms']) {
      worker.log.warn({ pausedMs: gap }, 'worker fenced: it was paused past session.timeout.ms; its tasks stop here and run elsewhere');
      worker.metrics.workerFenced.add(1);
      fence('paused');
    }
  }, 200);
  const caFile = config['rest.tls.ca.file'] ?? config['rest.tls.cert.file'];
  const forwarding: Forwarding = {
    isLeader: () => leader.isLeader,
    leaderUrl: () => {
      const id = currentAssignment(handles.configs.table).leader;
      return id ? status.worker(id)?.url : undefined;
    },
    workerId: worker.workerId,
    ...(caFile ? { ca: readFileSync(caFile) } : {}),
  };
  const shared = handles.offsets.store;
  const leaderStore: CheckpointStore = {
    read: (namespace) => shared.read(namespace),
    list: (prefix) => shared.list(prefix),
    write: async (namespace, entries) => (await leader.offsetsWriter()).write(namespace, entries),
    drop: async (namespace) => (await leader.offsetsWriter()).drop(namespace),
    close: async () => undefined,
  };
  return {
    herder,
    leaderStore,
    forwarding,
    async start() {
      await status.registerWorker({ url: advertisedUrl(config, restPort), startedAt: new Date().toISOString() });
      await herder.start();
      await membership.join();
      leader.start();
    },
    async stop() {
      clearInterval(watchdog);
      await herder.stop();
      await membership.leave();
      await leader.stop();
      await status.unregisterWorker().catch(() => undefined);
      for (const handle of Object.values(handles)) {
        await handle.log.stop();
        await handle.store.close();
      }
      opened.admin.disconnect();
    },
  };
}
