import type { FastifyInstance } from 'fastify';
import { toRawConfig } from '../../config/raw-config.js';
import type { HerderApi as Herder } from '../../herder/herder-api.js';
import { pluginConfigDefinitions } from '../../herder/herder.js';

export function pluginRoutes(app: FastifyInstance, herder: Herder): void {
  // coldstore has connector plugins only, so connectorsOnly=false (Kafka Connect: every plugin kind) lists the same.
  app.get('/connector-plugins', async () => herder.plugins.list().map((p) => ({ class: p.className, type: p.type, version: p.version })));

  app.get<{ Params: { type: string } }>('/connector-plugins/:type/config', async (request) => pluginConfigDefinitions(herder.plugins, request.params.type));

  app.put<{ Params: { type: string } }>('/connector-plugins/:type/config/validate', async (request) =>
    herder.validate(request.params.type, toRawConfig(request.body, 'config')),
  );
}
