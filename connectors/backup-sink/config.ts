import { checks, type ConfigValues } from '../../runtime/api/index.js';
import { backupLocationConfig } from '../common/backup-location.js';
import { dispatcherConfig } from '../common/dispatcher/config.js';

const MiB = 1024 * 1024;

/** BackupSink's own settings, merged with the shared storage settings. */
export const backupSinkConfig = backupLocationConfig.extend({
  layout: {
    type: 'string',
    default: 'kafka',
    oneOf: ['kafka', 'azul'],
    group: 'Backup',
    doc: 'Object layout (docs/formats.md): `kafka` (any topic) or `azul` (Azul event topics, compatible with the Azul backup service, with their binary streams).',
  },
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
    doc: "How often the backed-up topics' partition counts and configs, and the chosen consumer groups' offsets, are recorded for restores (only changes are written).",
  },
  groups: {
    type: 'list',
    default: [],
    group: 'Restore metadata',
    doc: 'Consumer groups whose committed offsets on the backed-up topics are snapshotted, so a restore can commit them on the restored topics.',
  },
  'groups.regex': {
    type: 'string',
    group: 'Restore metadata',
    doc: 'Also snapshot every consumer group whose id matches this regular expression (whole id).',
    check: checks.regex,
  },
  'bundle.max.records': { type: 'int', default: 1000, min: 1, max: 1_000_000, group: 'Bundles', doc: 'A bundle closes when it holds this many records.' },
  'bundle.max.bytes': {
    type: 'int',
    default: 64 * MiB,
    min: 1024,
    group: 'Bundles',
    doc: 'A bundle closes when its records hold this many bytes (keys, values, headers).',
  },
  'bundle.open.max.bytes': {
    type: 'int',
    default: 256 * MiB,
    min: 1024,
    group: 'Bundles',
    doc: "The open bundles of a task's partitions together hold at most this many bytes (keys, values, headers); past it the largest close early. A cap per task: the worker's sink.buffer.max.bytes bounds the open bundles of all its tasks together (the largest worker-wide close first).",
  },
  'bundle.max.age.ms': {
    type: 'int',
    default: 600_000,
    min: 100,
    group: 'Bundles',
    doc: "A bundle closes this long after its first record arrived; a record is durable within this time + the worker's offset.flush.interval.ms + one upload, at any record rate (delivery-guarantees.md, Freshness).",
  },
  'gzip.level': { type: 'int', default: 6, min: 1, max: 9, group: 'Bundles', doc: 'gzip compression level of bundles (1 fastest, 9 smallest).' },
  'upload.max.in.flight': {
    type: 'int',
    default: 4,
    min: 1,
    max: 64,
    group: 'Bundles',
    doc: 'Bundles a task encodes and uploads at the same time; more waits (bounded memory).',
  },
  'upload.permanent.error.retries': {
    type: 'int',
    default: 3,
    min: 0,
    group: 'Bundles',
    doc: 'Retries of an upload failing with a non-transient error (e.g. access denied) before the task fails. Transient errors (network, 5xx) are retried until the store is back.',
  },
  'lifecycle.expire.days': {
    type: 'int',
    default: 0,
    min: 0,
    group: 'Age-off',
    doc: 'If set, a lifecycle rule expires bundles of every topic this many days after they were written (0: keep forever).',
  },
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
  'lifecycle.abort.incomplete.days': {
    type: 'int',
    default: 7,
    min: 0,
    group: 'Age-off',
    doc: 'A lifecycle rule aborts multipart uploads left incomplete this many days (0: no rule).',
  },
  ...dispatcherConfig.keys,
  // Needed only by the azul layout (validateAll requires it there).
  'dispatcher.url': {
    ...dispatcherConfig.keys['dispatcher.url'],
    required: false,
    doc: 'Base URL of the Azul dispatcher (layout azul), e.g. http://azul-dispatcher:8111.',
  },
  'azul.sources.exclude': {
    type: 'list',
    default: [],
    group: 'Azul',
    doc: "Sources not backed up (Azul's exclude_from_backup): their topics are read and committed but nothing is written.",
    check: (entries: readonly string[]) => {
      const bad = entries.filter((e) => !/^[A-Za-z0-9_-]+$/.test(e));
      return bad.length ? `entries must be source names, got ${bad.join(', ')}` : undefined;
    },
  },
  'azul.sources.expire': {
    type: 'list',
    default: [],
    group: 'Azul',
    doc: "Per-source expiry of event bundles as source:days entries (Azul's expire_events_after), applied as lifecycle rules on <source>/ in the events bucket. Sources not listed never expire. Streams never expire: a blob is stored once and newer events may still refer to it.",
    check: (entries: readonly string[]) => {
      const bad = entries.filter((e) => !/^[A-Za-z0-9_-]+:[1-9]\d*$/.test(e));
      return bad.length ? `entries must be source:days with days >= 1, got ${bad.join(', ')}` : undefined;
    },
  },
  'streams.max.in.flight': { type: 'int', default: 20, min: 1, max: 256, group: 'Azul', doc: 'Streams a task downloads and stores at the same time.' },
  'streams.max.in.flight.bytes': {
    type: 'int',
    default: 256 * MiB,
    min: 1,
    group: 'Azul',
    doc: 'Sizes (as the events declare them) of the streams a task holds in memory at once; a blob larger than this is copied alone. Memory for streams is about twice this (the blob and its gzip).',
  },
  'streams.cache.size': {
    type: 'int',
    default: 16_000,
    min: 0,
    group: 'Azul',
    doc: 'Stream keys remembered as stored, so a blob many events refer to is checked once.',
  },
  'streams.gzip.level': {
    type: 'int',
    default: 1,
    min: 1,
    max: 9,
    group: 'Azul',
    doc: 'gzip level of stored streams (binaries rarely compress much; 1 is fastest).',
  },
  'streams.max.consecutive.failures': {
    type: 'int',
    default: 5,
    min: 1,
    group: 'Azul',
    doc: 'Stream downloads failing in a row (each after a few quick retries) before the task stops taking events and fails with DISPATCHER_FAILED; failed streams stay in the spool.',
  },
  'streams.spool.retry.ms': {
    type: 'int',
    default: 30_000,
    min: 100,
    group: 'Azul',
    doc: 'How often spooled streams are tried again. The spool is in the streams location (~coldstore/spool/<connector>/), drained by any task of the connector.',
  },
  'streams.missing.retry.ms': {
    type: 'int',
    default: 3_600_000,
    min: 1_000,
    group: 'Azul',
    doc: 'How often streams the dispatcher answered 404 are asked for again (also once when a task starts). They wait in the missing list in the streams location (~coldstore/missing/<connector>/) and are stored once the dispatcher has them; the task status counts them (progress.azul_streams.missing).',
  },
});

export type BackupSinkSettings = ConfigValues<typeof backupSinkConfig.keys>;
