import { checks, type ConfigValues } from '../../runtime/api/index.js';
import { backupLocationConfig } from '../shared/backup-location.js';

const MiB = 1024 * 1024;

/** BackupSink's own settings, merged with the shared storage settings. */
export const backupSinkConfig = backupLocationConfig.extend({
  'layout': { type: 'string', default: 'kafka', oneOf: ['kafka'], group: 'Backup', doc: 'Object layout: `kafka` (any topic, docs/formats.md).' },
  'topics.exclude.regex': {
    type: 'string',
    group: 'Backup',
    doc: 'Topics matching this regular expression (whole name) are not backed up, e.g. to leave internal topics out of topics.regex.',
    check: checks.regex,
  },
  'metadata.snapshot.interval.ms': {
    type: 'int',
    default: 60_000,
    min: 1_000,
    group: 'Restore metadata',
    doc: 'How often the backed-up topics\' partition counts and configs, and the chosen consumer groups\' offsets, are recorded for restores (only changes are written).',
  },
  'groups': {
    type: 'list',
    default: [],
    group: 'Restore metadata',
    doc: 'Consumer groups whose committed offsets on the backed-up topics are snapshotted, so a restore can commit them on the restored topics.',
  },
  'groups.regex': { type: 'string', group: 'Restore metadata', doc: 'Also snapshot every consumer group whose id matches this regular expression (whole id).', check: checks.regex },
  'bundle.max.records': { type: 'int', default: 1000, min: 1, max: 1_000_000, group: 'Bundles', doc: 'A bundle closes when it holds this many records.' },
  'bundle.max.bytes': { type: 'int', default: 64 * MiB, min: 1024, group: 'Bundles', doc: 'A bundle closes when its records hold this many bytes (keys, values, headers).' },
  'bundle.max.age.ms': { type: 'int', default: 600_000, min: 100, group: 'Bundles', doc: 'A bundle closes this long after its first record arrived, so data is durable within about this time (plus offset.flush.interval.ms).' },
  'gzip.level': { type: 'int', default: 6, min: 1, max: 9, group: 'Bundles', doc: 'gzip compression level of bundles (1 fastest, 9 smallest).' },
  'upload.max.in.flight': { type: 'int', default: 4, min: 1, max: 64, group: 'Bundles', doc: 'Bundles a task encodes and uploads at the same time; more waits (bounded memory).' },
  'upload.permanent.error.retries': { type: 'int', default: 3, min: 0, group: 'Bundles', doc: 'Retries of an upload failing with a non-transient error (e.g. access denied) before the task fails. Transient errors (network, 5xx) are retried until the store is back.' },
  'lifecycle.expire.days': { type: 'int', default: 0, min: 0, group: 'Age-off', doc: 'If set, a lifecycle rule expires bundles of every topic this many days after they were written (0: keep forever).' },
  'lifecycle.expire.topics': {
    type: 'list',
    default: [],
    group: 'Age-off',
    doc: 'Per-topic expiry as topic:days entries. When set, only these topics expire and lifecycle.expire.days is not applied (S3 applies every matching rule, so a catch-all rule would also cut these topics short).',
    check: (entries: readonly string[]) => {
      const bad = entries.filter((e) => !/^[a-zA-Z0-9._-]+:\d+$/.test(e));
      if (bad.length) return `entries must be topic:days, got ${bad.join(', ')}`;
      const topics = entries.map((e) => e.split(':')[0]);
      const twice = topics.filter((t, i) => topics.indexOf(t) !== i);
      return twice.length ? `lists ${[...new Set(twice)].join(', ')} more than once` : undefined;
    },
  },
  'continuous.retention.days': {
    type: 'int',
    default: 0,
    min: 0,
    group: 'Age-off',
    doc: 'Backups by id (docs/backups.md): bundles older than this many days that no kept backup needs are deleted when backups are pruned, oldest first per partition (0: the continuous backup keeps everything). Unlike lifecycle.expire.*, it spares what kept backups need.',
  },
  'lifecycle.abort.incomplete.days': { type: 'int', default: 7, min: 0, group: 'Age-off', doc: 'A lifecycle rule aborts multipart uploads left incomplete this many days (0: no rule).' },
});

export type BackupSinkSettings = ConfigValues<typeof backupSinkConfig.keys>;
