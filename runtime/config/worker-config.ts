import { defineConfig, type ConfigValues } from '../api/config-def.js';
import { ConfigError } from '../api/errors.js';
import { resolvePlaceholders } from './placeholders.js';
import { toRawConfig, withPrefix } from './raw-config.js';

export const workerConfigDef = defineConfig({
  'bootstrap.servers': { type: 'string', required: true, importance: 'HIGH', doc: 'Kafka brokers, host:port[,host:port...].' },
  'worker.id': { type: 'string', doc: 'Name of this worker in task status; defaults to host:port of the REST listener.' },
  'data.dir': {
    type: 'string',
    default: '.data',
    importance: 'HIGH',
    doc: 'Directory for the embedded checkpoint store (offsets, task state, connector configs) of a standalone worker. In cluster mode every state is in the storage topics and the worker keeps nothing here.',
  },
  'rest.host': { type: 'string', default: '127.0.0.1', doc: 'Address the REST API binds to. Loopback only unless you change it.' },
  'rest.port': { type: 'int', default: 8083, min: 0, max: 65535, doc: 'REST API port (0 picks a free one).' },
  'rest.auth.type': {
    type: 'string',
    default: 'none',
    oneOf: ['none', 'bearer', 'basic'],
    doc: 'Authentication required for REST calls other than /health and /ready (and /metrics with rest.metrics.open).',
  },
  'rest.metrics.open': {
    type: 'boolean',
    default: false,
    doc: 'Answer GET /metrics without credentials when rest.auth.type is set, so Prometheus can scrape it (the metrics name connectors, topics and tasks, no secrets). /health and /ready are always open.',
  },
  'rest.auth.token': { type: 'password', doc: 'Bearer token when rest.auth.type=bearer.' },
  'rest.auth.users': { type: 'password', doc: 'Comma-separated user:password pairs when rest.auth.type=basic.' },
  'rest.tls.cert.file': { type: 'string', doc: 'PEM certificate; with rest.tls.key.file, serves HTTPS.' },
  'rest.tls.key.file': { type: 'string', doc: 'PEM private key for rest.tls.cert.file.' },
  'offset.flush.interval.ms': {
    type: 'int',
    default: 5_000,
    min: 10,
    doc: 'How often tasks are asked for durable offsets (preCommit) and those are committed.',
  },
  'offset.storage.topic': {
    type: 'string',
    default: 'coldstore-offsets',
    doc: 'Compacted topic holding source offsets of connectors with transaction.boundary=poll (written in the same transaction as their records) and, in cluster mode, every checkpoint and task state; created when missing. Formerly offsets.storage.topic, still accepted.',
  },
  'group.id': {
    type: 'string',
    importance: 'HIGH',
    doc: 'Cluster mode: workers with the same group.id share connectors and tasks through Kafka and keep their state in the storage topics. Without it the worker is standalone (state in data.dir).',
  },
  'config.storage.topic': {
    type: 'string',
    default: 'coldstore-configs',
    doc: 'Cluster mode: compacted single-partition topic of connector configs, target states, task configs and assignments.',
  },
  'status.storage.topic': { type: 'string', default: 'coldstore-status', doc: 'Cluster mode: compacted topic of worker, connector and task status.' },
  'config.storage.replication.factor': {
    type: 'int',
    default: -1,
    min: -1,
    doc: 'Replication factor of config.storage.topic when created (-1: the broker default).',
  },
  'offset.storage.replication.factor': {
    type: 'int',
    default: -1,
    min: -1,
    doc: 'Replication factor of offset.storage.topic when created (-1: the broker default).',
  },
  'status.storage.replication.factor': {
    type: 'int',
    default: -1,
    min: -1,
    doc: 'Replication factor of status.storage.topic when created (-1: the broker default).',
  },
  'offset.storage.partitions': { type: 'int', default: 25, min: 1, doc: 'Partitions of offset.storage.topic when created.' },
  'status.storage.partitions': { type: 'int', default: 5, min: 1, doc: 'Partitions of status.storage.topic when created.' },
  'session.timeout.ms': {
    type: 'int',
    default: 10_000,
    min: 1_000,
    doc: 'Cluster mode: a worker silent for this long (killed, paused, cut off) leaves the group; its connectors and tasks move to the others and its late writes are fenced.',
  },
  'heartbeat.interval.ms': {
    type: 'int',
    default: 3_000,
    min: 100,
    doc: 'Cluster mode: how often a worker tells the group it is alive (below a third of session.timeout.ms).',
  },
  'rest.advertised.url': {
    type: 'string',
    doc: 'Cluster mode: the URL other workers reach this one at (writes are forwarded to the leader). Defaults to http(s)://rest.host:rest.port.',
  },
  'rest.allowed.origins': {
    type: 'list',
    default: [],
    doc: 'Origins (scheme://host[:port], comma-separated) a browser may send state-changing requests from, besides the Host the request names and the host of rest.advertised.url: the public origin of a reverse proxy that rewrites Host in front of /ui, e.g. https://ops.example.com.',
    check: (origins: string[]) => {
      const bad = origins.filter((o) => !isOrigin(o));
      return bad.length > 0 ? `must list origins such as https://ops.example.com (scheme, host, optional port, no path); not: ${bad.join(', ')}` : undefined;
    },
  },
  'rest.tls.ca.file': {
    type: 'string',
    doc: 'PEM certificates trusted when forwarding a request to another worker over HTTPS; defaults to rest.tls.cert.file (one certificate for the cluster).',
  },
  'sink.buffer.max.bytes': {
    type: 'int',
    default: 256 * 1024 * 1024,
    min: 1024,
    doc: "Every sink task of this worker process together holds at most this many bytes in open (not yet written) buffers, e.g. BackupSink's open bundles; past it the largest worker-wide close early, whichever task holds them. Memory then stays bounded however many tasks and partitions the worker runs. A connector's own cap (BackupSink bundle.open.max.bytes, per task) applies too.",
  },
  'task.shutdown.graceful.timeout.ms': { type: 'int', default: 30_000, min: 0, doc: 'How long a stopping task may take to flush and commit.' },
  'plugin.path': { type: 'list', default: [], doc: 'Extra connector plugin modules (files exporting a ConnectorPlugin as default or `plugins`).' },
  'backups.timeout.ms': {
    type: 'int',
    default: 1_800_000,
    min: 1_000,
    doc: 'A backup by id not durable up to its cut within this time becomes FAILED (docs/backups.md).',
  },
  'backups.retain.count': {
    type: 'int',
    default: 0,
    min: 0,
    doc: 'Keep the newest this many backups by id (0: no count limit). A backup is kept if this or backups.retain.days keeps it.',
  },
  'backups.retain.days': {
    type: 'int',
    default: 0,
    min: 0,
    doc: 'Keep backups by id younger than this many days (0: no age limit). With both retain settings 0, every backup is kept.',
  },
  'log.level': { type: 'string', default: 'info', oneOf: ['trace', 'debug', 'info', 'warn', 'error'], doc: 'Log level of the JSON logs.' },
});

export type WorkerConfig = ConfigValues<typeof workerConfigDef.keys> & {
  /** librdkafka properties from `kafka.*` keys, applied to every client. */
  kafka: Record<string, string>;
};

/** Parses and validates a worker config object; placeholders are resolved here since the worker is the task's host. */
export function parseWorkerConfig(input: unknown): WorkerConfig {
  const given = toRawConfig(input, 'worker config');
  // The old name of offset.storage.topic, still accepted.
  const { ['offsets.storage.topic']: legacyOffsetsTopic, ...rest } = given;
  const raw = legacyOffsetsTopic !== undefined && rest['offset.storage.topic'] === undefined ? { ...rest, 'offset.storage.topic': legacyOffsetsTopic } : rest;
  const { config, errors: placeholderErrors } = resolvePlaceholders(raw);
  const { values, errors } = workerConfigDef.validate(config);
  const known = new Set(Object.keys(workerConfigDef.keys));
  const unknown = Object.keys(config)
    .filter((k) => !known.has(k) && !k.startsWith('kafka.'))
    .map((k) => ({ field: k, message: 'is not a worker setting (librdkafka properties go under kafka.*)' }));
  const auth = values['rest.auth.type'];
  const authErrors = [
    ...(auth === 'bearer' && !values['rest.auth.token'] ? [{ field: 'rest.auth.token', message: 'is required when rest.auth.type=bearer' }] : []),
    ...(auth === 'basic' && !values['rest.auth.users'] ? [{ field: 'rest.auth.users', message: 'is required when rest.auth.type=basic' }] : []),
    ...(values['group.id'] !== undefined && values['rest.port'] === 0 && !values['worker.id']
      ? [{ field: 'worker.id', message: 'is required in cluster mode with rest.port 0 (the id names the worker in the group from the start)' }]
      : []),
    ...(values['group.id'] !== undefined && values['heartbeat.interval.ms'] * 3 > values['session.timeout.ms']
      ? [{ field: 'heartbeat.interval.ms', message: 'must be at most a third of session.timeout.ms' }]
      : []),
    ...(values['group.id'] !== undefined && new Set([values['config.storage.topic'], values['offset.storage.topic'], values['status.storage.topic']]).size < 3
      ? [{ field: 'config.storage.topic', message: 'config, offset and status storage topics must be three different topics' }]
      : []),
    ...(Boolean(values['rest.tls.cert.file']) !== Boolean(values['rest.tls.key.file'])
      ? [{ field: 'rest.tls.key.file', message: 'rest.tls.cert.file and rest.tls.key.file go together' }]
      : []),
  ];
  const all = [...placeholderErrors, ...errors, ...unknown, ...authErrors];
  if (all.length > 0) throw new ConfigError(all, 'worker config');
  return { ...values, kafka: withPrefix(config, 'kafka.') };
}

function isOrigin(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.pathname === '/' && !url.search && !url.hash && !url.username;
  } catch {
    return false;
  }
}
