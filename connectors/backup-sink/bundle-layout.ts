import { kafkaLayout as kafkaObjects } from '../layouts/kafka-v1/layout.js';
import type { RangeKeys } from '../layouts/layout.js';
import type { BundleUploader } from './bundle-uploader.js';
import type { SealedBundle } from './partition-writer.js';

/** How sealed bundles become objects: the kafka layout (any topic) or the azul layout. */
export interface BundleLayout {
  readonly ranges: RangeKeys;
  /** Whether the topic's records are backed up (false: consumed and committed, nothing written); throws for a topic the layout cannot hold. */
  admits(topic: string): boolean;
  /** Makes the bundle durable; the range object is written last. */
  write(bundle: SealedBundle, abandoned: () => boolean): Promise<void>;
  /** Set when the task must stop taking records (e.g. the dispatcher kept failing). */
  failure(): Error | undefined;
  /** Figures for the task status `progress`, beside the runtime's partitions. */
  progress?(): Record<string, unknown>;
  stop(): void;
}

/** The default layout: one kafka-v1 bundle per range, whose key is its range. */
export function kafkaLayout(uploader: BundleUploader): BundleLayout {
  return {
    ranges: kafkaObjects.ranges,
    admits: () => true,
    write: async (bundle, abandoned) => void (await uploader.upload(bundle, abandoned)),
    failure: () => undefined,
    stop: () => {},
  };
}
