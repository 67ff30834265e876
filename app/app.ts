import type { FastifyInstance } from 'fastify';
import { builtInPlugins } from '../connectors/index.js';
import type { WorkerConfig } from '../runtime/config/worker-config.js';
import { BackupCatalogue } from './catalogue/backup-catalogue.js';
import { CatalogueStore } from './catalogue/catalogue-store.js';
import { Herder } from '../runtime/herder/herder.js';
import { Readiness } from '../runtime/herder/readiness.js';
import { KafkaProbe } from '../runtime/kafka/kafka-probe.js';
import type { HerderApi } from '../runtime/herder/herder-api.js';
import { clusterRuntime, openCluster } from '../runtime/cluster/cluster-runtime.js';
import { assertPatchedKafkaClient } from '../runtime/kafka/client-check.js';
import { PluginRegistry } from '../runtime/plugins/registry.js';
import { parseBasicUsers, type RestAuth } from '../runtime/rest/auth.js';
import { buildServer } from '../runtime/rest/server.js';
import { backupRoutes } from './catalogue/routes.js';
import { uiRoutes } from './ui/routes.js';
import { UiSampler, type UiSamplerOptions } from './ui/sampler.js';
import { ConfigStore } from '../runtime/storage/config-store.js';
import { FileCheckpointStore } from '../runtime/storage/file-checkpoint-store.js';
import { createLogger, type Logger } from '../runtime/telemetry/logger.js';
import { Metrics } from '../runtime/telemetry/metrics.js';
import { commitId, VERSION } from '../runtime/version.js';
import { Worker } from '../runtime/worker/worker.js';

export interface App {
  server: FastifyInstance;
  herder: HerderApi;
  /** Cluster mode (group.id set). */
  clustered: boolean;
  catalogue: BackupCatalogue;
  worker: Worker;
  log: Logger;
  /** Starts the stored connectors; the REST API answers /health with 200 from then on. */
  start(): Promise<void>;
  /** Stops every task (each flushes and commits), then the REST API and the store. */
  stop(): Promise<void>;
}

function restAuth(config: WorkerConfig): RestAuth {
  const metricsOpen = config['rest.metrics.open'];
  switch (config['rest.auth.type']) {
    case 'bearer':
      return { type: 'bearer', token: config['rest.auth.token'] ?? '', metricsOpen };
    case 'basic':
      return { type: 'basic', users: parseBasicUsers(config['rest.auth.users'] ?? ''), metricsOpen };
    default:
      return { type: 'none' };
  }
}

export interface AppOptions {
  /** The /ui sampler's intervals (tests take points faster than every 15 s). */
  uiSampler?: UiSamplerOptions;
}

/** Wires a worker together without listening, so tests can drive the REST API with inject(). */
export async function createApp(config: WorkerConfig, logger?: Logger, options: AppOptions = {}): Promise<App> {
  assertPatchedKafkaClient();
  const log = logger ?? createLogger(config['log.level']);
  const plugins = new PluginRegistry(builtInPlugins);
  await plugins.load(config['plugin.path']);
  const workerId = config['worker.id'] ?? `${config['rest.host']}:${config['rest.port']}`;
  // Cluster mode keeps every state in Kafka topics, checked before anything is written.
  const opened = config['group.id']
    ? await openCluster(config, { bootstrapServers: config['bootstrap.servers'], extra: config.kafka }, workerId, log)
    : undefined;
  const store = opened ? opened.handles.offsets.store : new FileCheckpointStore(config['data.dir']);
  let started = false;
  const metrics: Metrics = new Metrics({
    // This worker's tasks only: in a cluster every worker sees every task's status.
    taskStates: () =>
      herder.names().flatMap((name) =>
        herder
          .status(name)
          .tasks.filter((t) => t.worker_id === worker.workerId)
          .map((t) => ({ connector: name, task: t.id, state: t.state })),
      ),
    cluster: () => cluster?.herder.clusterSample(),
    sinkPositions: () => herder.committedOffsets(),
  });
  const worker: Worker = new Worker(config, workerId, store, metrics, log);
  let listeningPort = config['rest.port'];
  const cluster = opened ? clusterRuntime(opened, worker, plugins, () => listeningPort) : undefined;
  const herder: HerderApi = cluster ? cluster.herder : new Herder(worker, new ConfigStore(store), plugins);
  const catalogue = new BackupCatalogue({
    herder,
    cluster: () => worker.cluster,
    store: new CatalogueStore(cluster ? cluster.leaderStore : store),
    active: () => !cluster || cluster.herder.isLeader(),
    log: log.child({ component: 'backups' }),
    timeoutMs: config['backups.timeout.ms'],
    retain: { count: config['backups.retain.count'], days: config['backups.retain.days'] },
  });
  const sampler = new UiSampler(herder, options.uiSampler);
  const kafkaProbe = new KafkaProbe(worker.kafka, `coldstore-${workerId}-probe`);
  const readiness = new Readiness({ herder, workerId: () => worker.workerId, started: () => started, kafka: kafkaProbe });
  const certFile = config['rest.tls.cert.file'];
  const keyFile = config['rest.tls.key.file'];
  const server = buildServer({
    herder,
    metrics,
    log,
    auth: restAuth(config),
    site: { advertisedUrl: config['rest.advertised.url'], allowedOrigins: config['rest.allowed.origins'] },
    routes: [(app) => backupRoutes(app, catalogue), (app) => uiRoutes(app, sampler)],
    ...(certFile && keyFile ? { tls: { certFile, keyFile } } : {}),
    ...(cluster ? { forwarding: cluster.forwarding } : {}),
    info: { version: VERSION, commit: commitId(), kafkaClusterId: () => kafkaProbe.clusterId(), healthy: () => started, ready: () => readiness.report() },
  });
  return {
    server,
    herder,
    clustered: cluster !== undefined,
    catalogue,
    worker,
    log,
    async start() {
      const address = server.server.address();
      if (typeof address === 'object' && address) listeningPort = address.port;
      await (cluster ?? herder).start();
      catalogue.start();
      sampler.start();
      started = true;
    },
    async stop() {
      started = false;
      sampler.stop();
      await catalogue.stop();
      await (cluster ?? herder).stop();
      worker.close();
      kafkaProbe.close();
      await server.close();
      if (!cluster) await store.close();
      await metrics.shutdown();
    },
  };
}
