import type { BundleKey } from '../layout.js';

const pad = (n: bigint) => n.toString().padStart(20, '0');

/** Kafka topic names allow only these characters, so anything else under the location is not ours. */
const TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;

/** `<topic>/<partition>/<start:020>-<end:020>.avro.gz`, the covered range inclusive. */
export function kafkaBundleKey(topic: string, partition: number, start: bigint, end: bigint): string {
  return `${topic}/${partition}/${pad(start)}-${pad(end)}.avro.gz`;
}

/** Where a partition's bundles start in a listing, so `StartAfter` skips bundles starting before `offset`. */
export function kafkaListStartAfter(topic: string, partition: number, offset: bigint): string {
  return `${topic}/${partition}/${pad(offset)}`;
}

/** The directory of a partition's bundles, as a key prefix relative to the events location. */
export function partitionDirectory(topic: string, partition: number): string {
  return `${topic}/${partition}/`;
}

const KEY_PATTERN = /^(.+)\/(\d+)\/(\d{20})-(\d{20})\.avro\.gz$/;

export function parseKafkaBundleKey(key: string): BundleKey | undefined {
  const m = KEY_PATTERN.exec(key);
  if (!m) return undefined;
  return { topic: m[1]!, partition: Number(m[2]), start: BigInt(m[3]!), end: BigInt(m[4]!) };
}

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

/** Whether a topic name is one Kafka allows (and so one a bundle key can start with). */
export function isKafkaTopicName(topic: string): boolean {
  return TOPIC_NAME.test(topic);
}
