import type { MetricSpec } from '../../runtime/api/index.js';

/** RestoreSource's metrics, declared once; attributes: connector, task, topic (source topic), or source (Azul source) and kind or result where noted. */
export const restoreMetrics = {
  records: 'coldstore_restore_records',
  bytes: 'coldstore_restore_bytes',
  objects: 'coldstore_restore_objects',
  badObjects: 'coldstore_restore_bad_objects',
  fetchSeconds: 'coldstore_restore_fetch_duration_seconds',
  groupOffsets: 'coldstore_restore_group_offsets',
  dispatcherEvents: 'coldstore_restore_dispatcher_events',
  dispatcherStreams: 'coldstore_restore_dispatcher_streams',
  dispatcherRetries: 'coldstore_restore_dispatcher_retries',
  followLag: 'coldstore_restore_follow_lag_offsets',
  followNewestTimestamp: 'coldstore_restore_follow_newest_record_timestamp_seconds',
} as const;

export const restoreMetricSpecs: MetricSpec[] = [
  { name: restoreMetrics.records, kind: 'counter', description: 'Records read from the backup and handed to the producer' },
  { name: restoreMetrics.bytes, kind: 'counter', description: 'Compressed bundle bytes read from the store', unit: 'By' },
  { name: restoreMetrics.objects, kind: 'counter', description: 'Bundles read from the store' },
  {
    name: restoreMetrics.badObjects,
    kind: 'counter',
    description: 'Bad objects and coverage gaps met, by kind (foreign, corrupt-gzip, checksum, truncated, inconsistent, gap, missing, rejected)',
  },
  {
    name: restoreMetrics.fetchSeconds,
    kind: 'histogram',
    description: 'Time waiting for the next bundle (fetch, gunzip, decode) when the producer needed it',
    unit: 's',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  },
  { name: restoreMetrics.groupOffsets, kind: 'counter', description: 'Consumer-group partition offsets committed on the target, by group' },
  {
    name: restoreMetrics.dispatcherEvents,
    kind: 'counter',
    description:
      'target=dispatcher: events posted to the dispatcher, by source and result: ok (accepted), fail (refused inside an accepted bulk) or filtered (the whole bulk filtered out or aged off, 425)',
  },
  {
    name: restoreMetrics.dispatcherStreams,
    kind: 'counter',
    description: 'target=dispatcher: stream blobs, by source and result: ok (uploaded) or bad (bad object or refused, on.bad.object=skip)',
  },
  {
    name: restoreMetrics.dispatcherRetries,
    kind: 'counter',
    description: 'target=dispatcher: dispatcher calls retried after a transient failure (network, timeout, 429, 5xx)',
  },
  {
    name: restoreMetrics.followLag,
    kind: 'gauge',
    description: 'restore.mode=follow: offsets backed up (newest bundle listed) but not yet restored, by topic and partition',
  },
  {
    name: restoreMetrics.followNewestTimestamp,
    kind: 'gauge',
    description:
      'restore.mode=follow: timestamp of the newest record restored on the standby, by topic and partition; time() minus it is the recovery point if the primary failed now, and grows when the follower stops',
    unit: 's',
  },
];
