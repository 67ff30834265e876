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
  /** Envelope encryption (docs/formats.md, "Encrypted objects"): the scheme, present on every encrypted object. */
  encryption: 'coldstore-enc',
  encryptionProvider: 'coldstore-enc-provider',
  encryptionKeyId: 'coldstore-enc-key-id',
  /** The object's data key, wrapped by the key-encryption key, base64. */
  encryptionWrappedKey: 'coldstore-enc-wrapped-key',
  /** The body's AES-GCM nonce, base64. */
  encryptionNonce: 'coldstore-enc-nonce',
  /** The names of SEALED_METADATA, encrypted with the object's data key, base64. */
  encryptionSealed: 'coldstore-enc-sealed',
} as const;

/**
 * Metadata that describes content (digests, uncompressed sizes): on an encrypted object
 * they are stored encrypted, so the bucket tells nothing a guess could be checked against.
 */
export const SEALED_METADATA: readonly string[] = [MetadataName.bodySha256, MetadataName.bodyBytes, MetadataName.size];
