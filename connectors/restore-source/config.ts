import { checks, type ConfigValues } from '../../runtime/api/index.js';
import { backupLocationConfig } from '../common/backup-location.js';
import { dispatcherConfig } from '../common/dispatcher/config.js';

const TOPIC = /^[a-zA-Z0-9._-]+$/;

/** An ISO 8601 date-time or milliseconds since the epoch; NaN if neither. */
export function parseInstant(text: string): number {
  if (/^\d+$/.test(text.trim())) return Number(text.trim());
  return /^\d{4}-\d{2}-\d{2}T/.test(text) ? Date.parse(text) : Number.NaN;
}

function listOf(pattern: RegExp, shape: string) {
  return (entries: readonly string[]) => {
    const bad = entries.filter((e) => !pattern.test(e));
    return bad.length ? `entries must be ${shape}, got ${bad.join(', ')}` : undefined;
  };
}

/** RestoreSource's settings, merged with the backup location (storage and buckets) settings. */
export const restoreSourceConfig = backupLocationConfig.extend({
  target: {
    type: 'string',
    default: 'kafka',
    oneOf: ['kafka', 'dispatcher'],
    group: 'Restore',
    doc: "Where the backup goes: `kafka` (the worker's cluster; a `kafka`-layout backup), or `dispatcher` (an `azul`-layout backup posted to the Azul dispatcher: streams, then events).",
  },
  topics: {
    type: 'list',
    default: [],
    requiredWhen: (all) =>
      (all['target'] ?? 'kafka') === 'kafka' && !all['topics.regex'] ? 'with target=kafka (or topics.regex with restore.mode=follow)' : undefined,
    importance: 'HIGH',
    group: 'Restore',
    doc: 'Backed-up topics to restore (names as in the backup). Required with target=kafka unless topics.regex is set; not used with target=dispatcher.',
    check: listOf(TOPIC, 'Kafka topic names'),
  },
  'topics.regex': {
    type: 'string',
    group: 'Follow',
    doc: 'restore.mode=follow: also follow every backed-up topic whose name matches this regular expression (whole name), including topics that appear in the backup later.',
    check: checks.regex,
  },
  'restore.mode': {
    type: 'string',
    default: 'once',
    oneOf: ['once', 'follow'],
    group: 'Follow',
    doc: 'once: restore what the backup holds, then finish. follow: a warm standby: restore what the backup holds, then keep restoring new bundles as they land (and new topics and partitions), syncing consumer-group offsets, until the connector is stopped (docs/standby.md). target=kafka only.',
  },
  'follow.interval.ms': {
    type: 'int',
    default: 5_000,
    min: 100,
    group: 'Follow',
    doc: 'restore.mode=follow: how often each caught-up partition lists the backup for new bundles (one LIST request per partition per interval). The standby trails the primary by about bundle.max.age.ms of the backup plus this.',
  },
  'follow.discovery.interval.ms': {
    type: 'int',
    default: 60_000,
    min: 1_000,
    group: 'Follow',
    doc: 'restore.mode=follow: how often the backup is listed for new topics and partitions.',
  },
  'follow.gap.timeout.ms': {
    type: 'int',
    default: 600_000,
    min: 0,
    group: 'Follow',
    doc: 'restore.mode=follow: a bundle that lands before the one ahead of it (the backup uploads in parallel) is held until the gap fills; a gap still open after this long is a bad object (on.bad.object decides).',
  },
  'follow.groups.interval.ms': {
    type: 'int',
    default: 30_000,
    min: 1_000,
    group: 'Follow',
    doc: 'restore.mode=follow: how often the newest backed-up offsets of the consumer groups in `groups` are translated and committed on the standby (only for groups with no active members there, and only forward).',
  },
  'topic.rename': {
    type: 'list',
    default: [],
    group: 'Restore',
    doc: 'Renames as source:target entries, e.g. orders:orders-restored. Applied before topic.rename.regex.',
    check: listOf(/^[a-zA-Z0-9._-]+:[a-zA-Z0-9._-]+$/, 'source:target'),
  },
  'topic.rename.regex': {
    type: 'string',
    group: 'Restore',
    doc: 'Renames topics matching this regular expression (whole name) to topic.rename.replacement.',
    check: checks.regex,
  },
  'topic.rename.replacement': {
    type: 'string',
    default: '',
    group: 'Restore',
    doc: 'Replacement for topic.rename.regex; $1, $2… refer to its groups, e.g. restored.$1.',
  },
  'topic.create': {
    type: 'boolean',
    default: true,
    group: 'Restore',
    doc: 'Create missing target topics with the backed-up partition count and topic configs (message.timestamp.type is left at CreateTime so original timestamps survive). false: a missing target topic fails the task.',
  },
  'topic.create.configs': {
    type: 'list',
    default: [],
    group: 'Restore',
    doc: 'Topic configs for created target topics, as name=value entries, applied over the backed-up ones. E.g. retention.ms=-1: restored records keep their original timestamps, so time-based retention would soon delete old ones.',
    check: listOf(/^[a-z0-9.]+=.*$/, 'name=value'),
  },
  'topic.create.replication.factor': {
    type: 'int',
    default: -1,
    min: -1,
    max: 32,
    group: 'Restore',
    doc: 'Replication factor of created topics; -1 is the broker default.',
  },
  partitioner: {
    type: 'string',
    default: 'auto',
    oneOf: ['auto', 'hash'],
    group: 'Restore',
    doc: "auto: keep each record's partition when the target has as many partitions as the backup, else hash. hash: partition by Kafka's murmur2 of the key (records without a key: original partition modulo the target count).",
  },
  'restore.until.timestamp': {
    type: 'string',
    group: 'Point in time',
    doc: 'Restore only records whose timestamp is at or before this moment (ISO 8601, e.g. 2026-11-20T12:00:00Z, or epoch milliseconds).',
    check: (value: string) => (Number.isFinite(parseInstant(value)) ? undefined : 'must be an ISO 8601 date-time or epoch milliseconds'),
  },
  'restore.until.offsets': {
    type: 'list',
    default: [],
    group: 'Point in time',
    doc: 'Restore only records at or before these offsets, as topic:partition:offset entries (inclusive; source topic names). Partitions not listed are restored in full.',
    check: listOf(/^[a-zA-Z0-9._-]+:\d+:\d+$/, 'topic:partition:offset'),
  },
  'restore.backup.id': {
    type: 'int',
    min: 1,
    group: 'Point in time',
    doc: 'Restore exactly what backup by id N holds (docs/backups.md): per partition the offsets inside its cut, the topic configs and consumer-group offsets taken at it. Combines with restore.until.timestamp, not with restore.until.offsets.',
  },
  'restore.phases': {
    type: 'list',
    default: ['records', 'offsets'],
    group: 'Restore',
    doc: 'What to restore, in order: records, then consumer-group offsets. `offsets` alone commits group offsets using where a previous run of this connector placed the records.',
    check: (phases: readonly string[]) =>
      phases.length === 0 || phases.some((p) => p !== 'records' && p !== 'offsets') ? 'must list records and/or offsets' : undefined,
  },
  groups: {
    type: 'list',
    default: [],
    group: 'Consumer groups',
    doc: 'Consumer groups whose backed-up offsets are translated and committed on the target; * for every group in the snapshot. Their consumers must be stopped. With restore.mode=follow they are synced on an interval instead (follow.groups.interval.ms).',
  },
  'on.bad.object': {
    type: 'string',
    default: 'fail',
    oneOf: ['fail', 'skip'],
    group: 'Restore',
    doc: 'What a corrupt, truncated or foreign object, or a gap in coverage, does: fail the task (naming the key), or skip it, report it in the task status and metrics, and go on.',
  },
  'fetch.max.in.flight': {
    type: 'int',
    default: 4,
    min: 1,
    max: 64,
    group: 'Restore',
    doc: 'Bundles fetched and decoded ahead of the producer (bounded memory).',
  },
  'poll.max.records': {
    type: 'int',
    default: 5000,
    min: 1,
    max: 1_000_000,
    group: 'Restore',
    doc: 'Most records handed to the producer per poll (one transaction in transactional mode).',
  },
  ...dispatcherConfig.keys,
  'dispatcher.url': {
    ...dispatcherConfig.keys['dispatcher.url'],
    required: false,
    requiredWhen: (all) => (all['target'] === 'dispatcher' ? 'with target=dispatcher' : undefined),
    doc: 'Base URL of the Azul dispatcher, e.g. http://azul-dispatcher:8111; required with target=dispatcher (streams and event bulks are posted to it).',
  },
  'restore.type': {
    type: 'string',
    default: 'all',
    oneOf: ['all', 'streams', 'events'],
    group: 'Dispatcher restore',
    doc: 'target=dispatcher: what to restore: all (every stream, then every event), streams, or events.',
  },
  'restore.sources': {
    type: 'list',
    default: [],
    group: 'Dispatcher restore',
    doc: 'target=dispatcher: the Azul sources to restore (streams and events); empty: every source in the backup. System events are under source `system`.',
    check: listOf(/^[A-Za-z0-9._-]+$/, 'source names'),
  },
  'dispatcher.max.in.flight': {
    type: 'int',
    default: 8,
    min: 1,
    max: 256,
    group: 'Dispatcher restore',
    doc: 'target=dispatcher: stream uploads at once, and (source, model, action) event groups posted at once (each group one bulk at a time, in key order).',
  },
  'dispatcher.max.in.flight.bytes': {
    type: 'int',
    default: 256 * 1024 * 1024,
    min: 1,
    group: 'Dispatcher restore',
    doc: 'target=dispatcher: stored (gzip) sizes of the stream blobs uploaded at once; a larger blob is uploaded alone. Memory for streams is about twice this for blobs that do not compress.',
  },
  'dispatcher.retry.max.ms': {
    type: 'int',
    default: 600_000,
    min: 0,
    group: 'Dispatcher restore',
    doc: 'target=dispatcher: how long one call that fails transiently (network, timeout, 429, 5xx) is retried, with exponential backoff, before the task fails naming the object.',
  },
});

export type RestoreSourceSettings = ConfigValues<typeof restoreSourceConfig.keys>;

/** Task-config keys the connector adds: which source partitions a task restores. */
export const TASK_PARTITIONS_KEY = 'restore.task.partitions';
export const TASK_COUNT_KEY = 'restore.task.count';
export const TOPIC_PARTITIONS_KEY = 'restore.topic.partitions';
