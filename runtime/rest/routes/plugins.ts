import type { FastifyInstance } from 'fastify';
import { toRawConfig } from '../../config/raw-config.js';
import type { HerderApi as Herder } from '../../herder/herder-api.js';

export function pluginRoutes(app: FastifyInstance, herder: Herder): void {
  app.get('/connector-plugins', async () => herder.plugins.list().map((p) => ({ class: p.className, type: p.type, version: p.version })));

  app.put<{ Params: { type: string } }>('/connector-plugins/:type/config/validate', async (request) =>
    herder.validate(request.params.type, toRawConfig(request.body, 'config')),
  );
}
