import type { MetricSpec } from '../../runtime/api/index.js';
import { azulMetricSpecs } from './azul/metrics.js';

/** BackupSink's metrics, declared once; attributes: connector, task, topic (and result and compressor, or kind). */
export const backupMetrics = {
  records: 'coldstore_backup_records',
  rawBytes: 'coldstore_backup_raw_bytes',
  compressedBytes: 'coldstore_backup_compressed_bytes',
  bundles: 'coldstore_backup_bundles',
  uploadSeconds: 'coldstore_backup_upload_duration_seconds',
  errors: 'coldstore_backup_errors',
} as const;

export const backupMetricSpecs: MetricSpec[] = [
  ...azulMetricSpecs,
  { name: backupMetrics.records, kind: 'counter', description: 'Records written to durable bundles' },
  { name: backupMetrics.rawBytes, kind: 'counter', description: 'Uncompressed bundle bytes (Avro container) made durable', unit: 'By' },
  { name: backupMetrics.compressedBytes, kind: 'counter', description: 'Compressed bundle bytes uploaded', unit: 'By' },
  {
    name: backupMetrics.bundles,
    kind: 'counter',
    description:
      'Bundles made durable, by result: created, or existing (identical object found, e.g. after a crash); ' +
      'and by compressor: isa-l, libdeflate, or zlib (the native addon not loaded)',
  },
  {
    name: backupMetrics.uploadSeconds,
    kind: 'histogram',
    description: 'Encode, compress and upload time of one bundle',
    unit: 's',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  },
  { name: backupMetrics.errors, kind: 'counter', description: 'Failed store operations, by kind: transient (retried until the store is back) or permanent' },
];
