import type { FastifyInstance } from 'fastify';
import type { ReadinessReport } from '../../herder/readiness.js';
import type { Metrics } from '../../telemetry/metrics.js';

export interface SystemInfo {
  version: string;
  commit: string;
  /** Kafka's cluster id, once the worker reached Kafka; null before. */
  kafkaClusterId: () => Promise<string | null>;
  healthy: () => boolean;
  ready: () => Promise<ReadinessReport>;
}

export function systemRoutes(app: FastifyInstance, info: SystemInfo, metrics: Metrics): void {
  app.get('/', async () => ({ version: info.version, commit: info.commit, kafka_cluster_id: await info.kafkaClusterId() }));

  // Liveness: the process answers. Kubernetes restarts a worker that fails it, so it checks nothing outside the process.
  app.get('/health', async (_request, reply) => {
    const healthy = info.healthy();
    return reply
      .code(healthy ? 200 : 503)
      .send({ status: healthy ? 'healthy' : 'starting', message: healthy ? 'Worker has been started' : 'Worker is starting' });
  });

  // Readiness: the worker can do its work now (Kafka, object stores, no FAILED task here); 503 names each failing check.
  app.get('/ready', async (_request, reply) => {
    const report = await info.ready();
    return reply.code(report.status === 'ready' ? 200 : 503).send(report);
  });

  app.get('/metrics', async (_request, reply) => reply.type('text/plain; version=0.0.4; charset=utf-8').send(await metrics.prometheusText()));
}
