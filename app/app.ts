import type { FastifyInstance } from 'fastify';
import { builtInPlugins } from '../connectors/index.js';
import type { WorkerConfig } from '../runtime/config/worker-config.js';
import { BackupCatalogue } from './catalogue/backup-catalogue.js';
import { CatalogueStore } from './catalogue/catalogue-store.js';
import { Herder } from '../runtime/herder/herder.js';
import { assertPatchedKafkaClient } from '../runtime/kafka/client-check.js';
import { PluginRegistry } from '../runtime/plugins/registry.js';
import { parseBasicUsers, type RestAuth } from '../runtime/rest/auth.js';
import { buildServer } from '../runtime/rest/server.js';
import { backupRoutes } from './catalogue/routes.js';
import { uiRoutes } from './ui/routes.js';
import { ConfigStore } from '../runtime/storage/config-store.js';
import { FileCheckpointStore } from '../runtime/storage/file-checkpoint-store.js';
import { createLogger, type Logger } from '../runtime/telemetry/logger.js';
import { Metrics } from '../runtime/telemetry/metrics.js';
import { commitId, VERSION } from '../runtime/version.js';
import { Worker } from '../runtime/worker/worker.js';

export interface App {
  server: FastifyInstance;
  herder: Herder;
  catalogue: BackupCatalogue;
  worker: Worker;
  log: Logger;
  /** Starts the stored connectors; the REST API answers /health with 200 from then on. */
  start(): Promise<void>;
  /** Stops every task (each flushes and commits), then the REST API and the store. */
  stop(): Promise<void>;
}

function restAuth(config: WorkerConfig): RestAuth {
  switch (config['rest.auth.type']) {
    case 'bearer':
      return { type: 'bearer', token: config['rest.auth.token'] ?? '' };
    case 'basic':
      return { type: 'basic', users: parseBasicUsers(config['rest.auth.users'] ?? '') };
    default:
      return { type: 'none' };
  }
}

/** Wires a worker together without listening, so tests can drive the REST API with inject(). */
export async function createApp(config: WorkerConfig, logger?: Logger): Promise<App> {
  assertPatchedKafkaClient();
  const log = logger ?? createLogger(config['log.level']);
  const store = new FileCheckpointStore(config['data.dir']);
  const plugins = new PluginRegistry(builtInPlugins);
  await plugins.load(config['plugin.path']);
  let started = false;
  const metrics: Metrics = new Metrics({
    taskStates: () => herder.names().flatMap((name) => herder.status(name).tasks.map((t) => ({ connector: name, task: t.id, state: t.state }))),
    sinkPositions: () => herder.committedOffsets(),
  });
  const worker: Worker = new Worker(config, config['worker.id'] ?? `${config['rest.host']}:${config['rest.port']}`, store, metrics, log);
  const herder: Herder = new Herder(worker, new ConfigStore(store), plugins);
  const catalogue = new BackupCatalogue({
    herder,
    cluster: () => worker.cluster,
    store: new CatalogueStore(store),
    log: log.child({ component: 'backups' }),
    timeoutMs: config['backups.timeout.ms'],
    retain: { count: config['backups.retain.count'], days: config['backups.retain.days'] },
  });
  const certFile = config['rest.tls.cert.file'];
  const keyFile = config['rest.tls.key.file'];
  const server = buildServer({
    herder,
    metrics,
    log,
    auth: restAuth(config),
    routes: [(app) => backupRoutes(app, catalogue), uiRoutes],
    ...(certFile && keyFile ? { tls: { certFile, keyFile } } : {}),
    info: { version: VERSION, commit: commitId(), kafkaClusterId: () => null, healthy: () => started },
  });
  return {
    server,
    herder,
    catalogue,
    worker,
    log,
    async start() {
      await herder.start();
      catalogue.start();
      started = true;
    },
    async stop() {
      started = false;
      await catalogue.stop();
      await herder.stop();
      worker.close();
      await server.close();
      await store.close();
      await metrics.shutdown();
    },
  };
}
