import { kafkaLayout as kafkaObjects } from '../layouts/kafka-v1/layout.js';
import type { RangeKeys } from '../layouts/layout.js';
import { OpenKafkaBundle } from '../layouts/kafka-v1/open-bundle.js';
import type { BundleUploader } from './bundle-uploader.js';
import type { OpenBundle, SealedBundle } from './partition-writer.js';

/** How sealed bundles become objects: the kafka layout (any topic) or the azul layout. */
export interface BundleLayout<Body extends OpenBundle = OpenBundle> {
  readonly ranges: RangeKeys;
  /** Where a new bundle's records go as they arrive; `expectedBytes`: how large the partition's last bundle was encoded (0: unknown). */
  openBundle(expectedBytes: number): Body;
  /** Whether the topic's records are backed up (false: consumed and committed, nothing written); throws for a topic the layout cannot hold. */
  admits(topic: string): boolean;
  /** Makes the bundle durable; the range object is written last. */
  write(bundle: SealedBundle<Body>, abandoned: () => boolean): Promise<void>;
  /** Set when the task must stop taking records (e.g. the dispatcher kept failing). */
  failure(): Error | undefined;
  /** Figures for the task status `progress`, beside the runtime's partitions. */
  progress?(): Record<string, unknown>;
  stop(): void;
}

/** The default layout: one kafka-v1 bundle per range, whose key is its range. */
export function kafkaLayout(uploader: BundleUploader): BundleLayout<OpenKafkaBundle> {
  return {
    ranges: kafkaObjects.ranges,
    openBundle: (expectedBytes) => new OpenKafkaBundle(expectedBytes),
    admits: () => true,
    write: async (bundle, abandoned) => void (await uploader.upload(bundle, abandoned)),
    failure: () => undefined,
    stop: () => {},
  };
}
