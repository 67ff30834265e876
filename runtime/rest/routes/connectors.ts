import type { FastifyInstance } from 'fastify';
import { ColdstoreError, ErrorCodes } from '../../api/errors.js';
import { toRawConfig } from '../../config/raw-config.js';
import { initialTarget } from '../../herder/config-changes.js';
import type { HerderApi as Herder } from '../../herder/herder-api.js';

type NameParams = { Params: { name: string } };
type TaskParams = { Params: { name: string; id: string } };

function taskId(raw: string): number {
  const id = Number(raw);
  if (!Number.isInteger(id) || id < 0) throw new ColdstoreError(ErrorCodes.TASK_NOT_FOUND, `Task id "${raw}" is not a non-negative integer.`);
  return id;
}

/** Names go into URLs and checkpoint namespaces (`task-state/<name>/...`), so no slashes or surrounding spaces. */
function checkedName(name: string | undefined): string {
  if (!name || /[\/\\]/.test(name) || name.trim() !== name) {
    throw new ColdstoreError(
      ErrorCodes.REQUEST_INVALID,
      'Connector name is missing or invalid: give a non-empty "name" without slashes or surrounding spaces.',
    );
  }
  return name;
}

function flag(value: unknown): boolean {
  return value === 'true' || value === true;
}

/** Kafka Connect's connector endpoints, same paths, bodies and status codes. */
export function connectorRoutes(app: FastifyInstance, herder: Herder): void {
  app.get<{ Querystring: { expand?: string | string[] } }>('/connectors', async (request) => {
    const expand = new Set([request.query.expand ?? []].flat());
    if (expand.size === 0) return herder.names();
    return Object.fromEntries(
      herder.names().map((name) => [
        name,
        {
          ...(expand.has('status') ? { status: herder.status(name) } : {}),
          ...(expand.has('info') ? { info: herder.info(name) } : {}),
        },
      ]),
    );
  });

  app.post('/connectors', async (request, reply) => {
    const body = request.body as { name?: unknown; config?: unknown; initial_state?: unknown } | undefined;
    if (!body || typeof body !== 'object') throw new ColdstoreError(ErrorCodes.REQUEST_INVALID, 'Body must be {"name": ..., "config": {...}}.');
    const config = toRawConfig(body.config ?? {}, 'config');
    const name = checkedName(typeof body.name === 'string' && body.name ? body.name : config['name']);
    const { info } = await herder.putConfig(name, config, true, initialTarget(body.initial_state));
    return reply
      .code(201)
      .header('Location', `/connectors/${encodeURIComponent(name)}`)
      .send(info);
  });

  app.get<NameParams>('/connectors/:name', async (request) => herder.info(request.params.name));
  app.get<NameParams>('/connectors/:name/config', async (request) => herder.info(request.params.name).config);

  app.put<NameParams>('/connectors/:name/config', async (request, reply) => {
    const { created, info } = await herder.putConfig(checkedName(request.params.name), toRawConfig(request.body, 'config'), false);
    return reply.code(created ? 201 : 200).send(info);
  });

  // KIP-477: null removes a key; the result is checked like a PUT. Only an existing connector is patched.
  app.patch<NameParams>('/connectors/:name/config', async (request) => {
    const set = toRawConfig(request.body, 'config patch');
    const remove = Object.entries(request.body as Record<string, unknown>)
      .filter(([, value]) => value === null)
      .map(([key]) => key);
    return herder.patchConfig(request.params.name, { set, remove });
  });

  app.delete<NameParams>('/connectors/:name', async (request, reply) => {
    await herder.delete(request.params.name);
    return reply.code(204).send();
  });

  app.get<NameParams>('/connectors/:name/status', async (request) => herder.status(request.params.name));
  app.get<NameParams>('/connectors/:name/tasks', async (request) => herder.tasks(request.params.name));
  app.get<TaskParams>('/connectors/:name/tasks/:id/status', async (request) => herder.taskStatus(request.params.name, taskId(request.params.id)));

  app.post<TaskParams>('/connectors/:name/tasks/:id/restart', async (request, reply) => {
    await herder.restartTask(request.params.name, taskId(request.params.id));
    return reply.code(204).send();
  });

  for (const [action, target] of [
    ['pause', 'PAUSED'],
    ['resume', 'RUNNING'],
    ['stop', 'STOPPED'],
  ] as const) {
    app.put<NameParams>(`/connectors/:name/${action}`, async (request, reply) => {
      await herder.setTarget(request.params.name, target);
      return reply.code(202).send();
    });
  }

  app.post<NameParams & { Querystring: { includeTasks?: string; onlyFailed?: string } }>('/connectors/:name/restart', async (request, reply) => {
    const includeTasks = flag(request.query.includeTasks);
    const onlyFailed = flag(request.query.onlyFailed);
    await herder.restart(request.params.name, includeTasks, onlyFailed);
    // Kafka Connect answers the plain form with 204 and the extended form with 202 and the status.
    if (!includeTasks && !onlyFailed) return reply.code(204).send();
    return reply.code(202).send(herder.status(request.params.name));
  });

  // KIP-558, in Kafka Connect's shapes: {"<name>": {"topics": [...]}} and 202 without a body.
  app.get<NameParams>('/connectors/:name/topics', async (request) => ({
    [request.params.name]: { topics: await herder.activeTopics(request.params.name) },
  }));

  app.put<NameParams>('/connectors/:name/topics/reset', async (request, reply) => {
    await herder.resetActiveTopics(request.params.name);
    return reply.code(202).send();
  });

  app.get<NameParams>('/connectors/:name/offsets', async (request) => herder.getOffsets(request.params.name));

  app.patch<NameParams>('/connectors/:name/offsets', async (request) => {
    await herder.alterOffsets(request.params.name, request.body);
    return { message: 'The offsets for this connector have been altered successfully' };
  });

  app.delete<NameParams>('/connectors/:name/offsets', async (request) => {
    await herder.resetOffsets(request.params.name);
    return { message: 'The offsets for this connector have been reset successfully' };
  });
}
