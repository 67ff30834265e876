import { readFile } from 'node:fs/promises';
import { builtInPlugins } from '../../connectors/index.js';
import { ColdstoreError, ErrorCodes } from '../api/errors.js';
import { parseBasicUsers, type RestAuth } from '../rest/auth.js';
import { toRawConfig } from '../config/raw-config.js';
import { parseWorkerConfig, type WorkerConfig } from '../config/worker-config.js';
import { Herder } from '../herder/herder.js';
import { PluginRegistry } from '../plugins/registry.js';
import { buildServer } from '../rest/server.js';
import { ConfigStore } from '../storage/config-store.js';
import { FileCheckpointStore } from '../storage/file-checkpoint-store.js';
import { createLogger, type Logger } from '../telemetry/logger.js';
import { Metrics } from '../telemetry/metrics.js';
import { commitId, VERSION } from '../version.js';
import { Worker } from '../worker/worker.js';

export interface RunningWorker {
  url: string;
  herder: Herder;
  log: Logger;
  stop(): Promise<void>;
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ColdstoreError(ErrorCodes.CONFIG_INVALID, `Cannot read ${what} ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ColdstoreError(ErrorCodes.CONFIG_INVALID, `${what} ${path} is not valid JSON: ${(err as Error).message}`);
  }
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

/** A connector file holds `{name, config}` (the POST /connectors body) or a flat config with `name`. */
function connectorFromFile(content: unknown, path: string): { name: string; config: Record<string, string> } {
  const body = content as { name?: unknown; config?: unknown };
  const config = toRawConfig(body?.config ?? body, `connector file ${path}`);
  const name = typeof body?.name === 'string' ? body.name : config['name'];
  if (!name) throw new ColdstoreError(ErrorCodes.CONFIG_INVALID, `Connector file ${path} has no "name".`);
  return { name, config };
}

/** Starts a worker: REST API, herder with the stored connectors, then the connectors given as files. */
export async function startWorker(workerConfigPath: string, connectorPaths: readonly string[] = []): Promise<RunningWorker> {
  const config = parseWorkerConfig(await readJson(workerConfigPath, 'worker config'));
  const log = createLogger(config['log.level']);
  const store = new FileCheckpointStore(config['data.dir']);
  const plugins = new PluginRegistry(builtInPlugins);
  await plugins.load(config['plugin.path']);
  let started = false;
  const metrics: Metrics = new Metrics(() =>
    herder.names().flatMap((name) => herder.status(name).tasks.map((t) => ({ connector: name, task: t.id, state: t.state }))),
  );
  const worker: Worker = new Worker(config, config['worker.id'] ?? '', store, metrics, log);
  const herder: Herder = new Herder(worker, new ConfigStore(store), plugins);
  const tls = config['rest.tls.cert.file'] && config['rest.tls.key.file'] ? { certFile: config['rest.tls.cert.file'], keyFile: config['rest.tls.key.file'] } : undefined;
  const app = buildServer({
    herder,
    metrics,
    log,
    auth: restAuth(config),
    ...(tls ? { tls } : {}),
    info: { version: VERSION, commit: commitId(), kafkaClusterId: () => null, healthy: () => started },
  });
  const url = await app.listen({ host: config['rest.host'], port: config['rest.port'] });
  const address = app.server.address();
  // Known only now when rest.port is 0; no task exists before herder.start().
  if (!worker.workerId) worker.workerId = typeof address === 'object' && address ? `${config['rest.host']}:${address.port}` : url;
  await herder.start();
  for (const path of connectorPaths) {
    const { name, config: connectorConfig } = connectorFromFile(await readJson(path, 'connector file'), path);
    await herder.putConfig(name, connectorConfig, false);
  }
  started = true;
  log.info({ url, workerId: worker.workerId, connectors: herder.names() }, 'worker started');
  return {
    url,
    herder,
    log,
    async stop() {
      started = false;
      await herder.stop();
      await app.close();
      await store.close();
      await metrics.shutdown();
      log.info({}, 'worker stopped');
    },
  };
}
