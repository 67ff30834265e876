import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../telemetry/metrics.js';

export interface SystemInfo {
  version: string;
  commit: string;
  kafkaClusterId: () => string | null;
  healthy: () => boolean;
}

export function systemRoutes(app: FastifyInstance, info: SystemInfo, metrics: Metrics): void {
  app.get('/', async () => ({ version: info.version, commit: info.commit, kafka_cluster_id: info.kafkaClusterId() }));

  app.get('/health', async (_request, reply) => {
    const healthy = info.healthy();
    return reply
      .code(healthy ? 200 : 503)
      .send({ status: healthy ? 'healthy' : 'starting', message: healthy ? 'Worker has been started' : 'Worker is starting' });
  });

  app.get('/metrics', async (_request, reply) => reply.type('text/plain; version=0.0.4; charset=utf-8').send(await metrics.prometheusText()));
}
