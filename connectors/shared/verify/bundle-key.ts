import { azulIndexKey, parseAzulIndexKey } from '../../layouts/azul/objects.js';
import { kafkaBundleKey, parseKafkaBundleKey } from '../../layouts/kafka-v1/bundle-codec.js';

export interface BundleKey {
  topic: string;
  partition: number;
  start: bigint;
  end: bigint;
}

/** Kafka topic names allow only these characters, so anything else under the location is not ours. */
const TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;

/**
 * The bundle a key (relative to the events location) names, or undefined when the
 * key is not exactly what BackupSink writes: the key must be rebuilt byte for byte
 * from what it parses to (no `t/01/`, no nested directories) and its range not reversed.
 */
export function parseBundleKeyStrictly(key: string): BundleKey | undefined {
  const parsed = parseKafkaBundleKey(key);
  if (!parsed || !TOPIC_NAME.test(parsed.topic) || parsed.start > parsed.end) return undefined;
  return kafkaBundleKey(parsed.topic, parsed.partition, parsed.start, parsed.end) === key ? parsed : undefined;
}

/** The range an azul index entry's key (relative to the events location) names, under the same rules as parseBundleKeyStrictly. */
export function parseAzulIndexKeyStrictly(key: string): BundleKey | undefined {
  const parsed = parseAzulIndexKey(key);
  if (!parsed || !TOPIC_NAME.test(parsed.topic) || parsed.start > parsed.end) return undefined;
  return azulIndexKey(parsed.topic, parsed.partition, parsed.start, parsed.end) === key ? parsed : undefined;
}

/** The directory of a partition's bundles, as a key prefix relative to the events location. */
export function partitionDirectory(topic: string, partition: number): string {
  return `${topic}/${partition}/`;
}
