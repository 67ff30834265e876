import { readFile } from 'node:fs/promises';
import { ColdstoreError, ErrorCodes } from '../../runtime/api/errors.js';
import { createApp, type App } from '../app.js';
import { toRawConfig } from '../../runtime/config/raw-config.js';
import { parseWorkerConfig } from '../../runtime/config/worker-config.js';

export interface RunningWorker extends App {
  url: string;
}

export async function readJson(path: string, what: string): Promise<unknown> {
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

/** A connector file holds `{name, config}` (the POST /connectors body) or a flat config with `name`. */
export function connectorFromFile(content: unknown, path: string): { name: string; config: Record<string, string> } {
  const body = content as { name?: unknown; config?: unknown };
  const config = toRawConfig(body?.config ?? body, `connector file ${path}`);
  const name = typeof body?.name === 'string' ? body.name : config['name'];
  if (!name) throw new ColdstoreError(ErrorCodes.CONFIG_INVALID, `Connector file ${path} has no "name".`);
  return { name, config };
}

/** Starts a worker: REST API, the stored connectors, then the connectors given as files (like connect-standalone). */
export async function startWorker(workerConfigPath: string, connectorPaths: readonly string[] = []): Promise<RunningWorker> {
  const config = parseWorkerConfig(await readJson(workerConfigPath, 'worker config'));
  if (config['group.id'] && connectorPaths.length > 0) {
    throw new ColdstoreError(
      ErrorCodes.CONFIG_INVALID,
      'Connector files are for standalone workers; in cluster mode (group.id set) create connectors through the REST API of any worker.',
    );
  }
  const app = await createApp(config);
  const url = await app.server.listen({ host: config['rest.host'], port: config['rest.port'] });
  const port = app.server.server.address();
  // With rest.port 0 the real port is known only now; no task exists before start().
  if (!config['worker.id'] && typeof port === 'object' && port) app.worker.workerId = `${config['rest.host']}:${port.port}`;
  await app.start();
  for (const path of connectorPaths) {
    const { name, config: connectorConfig } = connectorFromFile(await readJson(path, 'connector file'), path);
    await app.herder.putConfig(name, connectorConfig, false);
  }
  app.log.info({ url, workerId: app.worker.workerId, node: process.version, connectors: app.herder.names() }, 'worker started');
  return { ...app, url };
}
