import type { TopicPartition } from '../../runtime/api/index.js';
import { FORMAT_KAFKA_V1, kafkaListStartAfter, parseKafkaBundleKey } from '../layouts/kafka-v1/bundle-codec.js';
import type { BundleUploader } from './bundle-uploader.js';
import type { SealedBundle } from './partition-writer.js';

export interface KeyRange {
  topic: string;
  partition: number;
  start: bigint;
  end: bigint;
}

/**
 * How a layout names the object that proves an offset range durable, so a
 * restarted task can find, by listing, what it wrote before a crash.
 */
export interface RangeKeys {
  /** Key prefix (without the location prefix) of a partition's range objects. */
  prefix(tp: TopicPartition): string;
  /** The key to list after so only ranges starting at or after `offset` come back. */
  startAfter(tp: TopicPartition, offset: bigint): string;
  parse(key: string): KeyRange | undefined;
  /** The coldstore-format a range object's metadata must state. */
  format: string;
}

/** How sealed bundles become objects: the kafka layout (any topic) or the azul layout. */
export interface BundleLayout {
  readonly ranges: RangeKeys;
  /** Whether the topic's records are backed up (false: consumed and committed, nothing written); throws for a topic the layout cannot hold. */
  admits(topic: string): boolean;
  /** Makes the bundle durable; the range object is written last. */
  write(bundle: SealedBundle, abandoned: () => boolean): Promise<void>;
  /** Set when the task must stop taking records (e.g. the dispatcher kept failing). */
  failure(): Error | undefined;
  stop(): void;
}

export const kafkaRangeKeys: RangeKeys = {
  prefix: (tp) => `${tp.topic}/${tp.partition}/`,
  startAfter: (tp, offset) => kafkaListStartAfter(tp.topic, tp.partition, offset),
  parse: parseKafkaBundleKey,
  format: FORMAT_KAFKA_V1,
};

/** The default layout: one kafka-v1 bundle per range, whose key is its range. */
export function kafkaLayout(uploader: BundleUploader): BundleLayout {
  return {
    ranges: kafkaRangeKeys,
    admits: () => true,
    write: async (bundle, abandoned) => void (await uploader.upload(bundle, abandoned)),
    failure: () => undefined,
    stop: () => {},
  };
}
