import type { MetricSpec } from '../../../runtime/api/index.js';

/**
 * Azul's own backup figures (events ok/fail, streams ok/missing/fail per source)
 * under coldstore names; attributes: connector, task, source, result.
 */
export const azulMetrics = {
  events: 'coldstore_backup_azul_events',
  streams: 'coldstore_backup_azul_streams',
  streamBytes: 'coldstore_backup_azul_stream_bytes',
} as const;

export const azulMetricSpecs: MetricSpec[] = [
  {
    name: azulMetrics.events,
    kind: 'counter',
    description: 'Azul events made durable, by source and result: ok (in an event bundle) or invalid (kept with the rejects)',
  },
  {
    name: azulMetrics.streams,
    kind: 'counter',
    description:
      'Azul streams handled, by source and result: stored, existing (already in the bucket), missing (dispatcher 404), mismatch (bytes do not match the sha256; not stored) or failed (spooled for a retry)',
  },
  { name: azulMetrics.streamBytes, kind: 'counter', description: 'Uncompressed bytes of Azul streams stored', unit: 'By' },
];
