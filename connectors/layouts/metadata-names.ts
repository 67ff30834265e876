/**
 * The S3 user metadata names coldstore writes on its objects (docs/formats.md).
 * Spelled here once, so a writer and every reader cannot drift apart.
 */
export const MetadataName = {
  format: 'coldstore-format',
  bodySha256: 'coldstore-body-sha256',
  bodyBytes: 'coldstore-body-bytes',
  /** kafka-v1 bundles: how many records. */
  records: 'coldstore-records',
  /** azul event bundles: how many events. */
  recordCount: 'coldstore-record-count',
  rangeStart: 'coldstore-range-start',
  rangeEnd: 'coldstore-range-end',
  firstOffset: 'coldstore-first-offset',
  lastOffset: 'coldstore-last-offset',
  minTimestamp: 'coldstore-min-timestamp',
  maxTimestamp: 'coldstore-max-timestamp',
  firstTimestamp: 'coldstore-first-timestamp',
  lastTimestamp: 'coldstore-last-timestamp',
  topic: 'coldstore-topic',
  partition: 'coldstore-partition',
  /** azul stream blobs: uncompressed bytes. */
  size: 'coldstore-size',
} as const;
