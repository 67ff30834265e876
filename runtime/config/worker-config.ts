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
    doc: 'Directory for the embedded checkpoint store (offsets, task state, connector configs).',
  },
  'rest.host': { type: 'string', default: '127.0.0.1', doc: 'Address the REST API binds to. Loopback only unless you change it.' },
  'rest.port': { type: 'int', default: 8083, min: 0, max: 65535, doc: 'REST API port (0 picks a free one).' },
  'rest.auth.type': { type: 'string', default: 'none', oneOf: ['none', 'bearer', 'basic'], doc: 'Authentication required for REST calls other than /health.' },
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
  'offsets.storage.topic': {
    type: 'string',
    default: 'coldstore-offsets',
    doc: 'Compacted topic holding source offsets of connectors with transaction.boundary=poll, written in the same transaction as their records; created when missing.',
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
  const raw = toRawConfig(input, 'worker config');
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
    ...(Boolean(values['rest.tls.cert.file']) !== Boolean(values['rest.tls.key.file'])
      ? [{ field: 'rest.tls.key.file', message: 'rest.tls.cert.file and rest.tls.key.file go together' }]
      : []),
  ];
  const all = [...placeholderErrors, ...errors, ...unknown, ...authErrors];
  if (all.length > 0) throw new ConfigError(all, 'worker config');
  return { ...values, kafka: withPrefix(config, 'kafka.') };
}
