import { METADATA_PREFIX } from '../../common/formats/backup-metadata.js';
import type { Layout, RangeKeys } from '../layout.js';
import { FORMAT_KAFKA_V1 } from './bundle-codec.js';
import { kafkaListStartAfter, parseBundleKeyStrictly, parseKafkaBundleKey, partitionDirectory } from './bundle-keys.js';

/** A kafka-v1 bundle is its own range object: its key is its range. */
export const kafkaRangeKeys: RangeKeys = {
  prefix: (tp) => partitionDirectory(tp.topic, tp.partition),
  startAfter: (tp, offset) => kafkaListStartAfter(tp.topic, tp.partition, offset),
  parse: parseKafkaBundleKey,
  format: FORMAT_KAFKA_V1,
};

/** Layout `kafka`: one kafka-v1 bundle per range of any topic, at `<topic>/<partition>/<start>-<end>.avro.gz`. */
export const kafkaLayout: Layout = {
  name: 'kafka',
  namedInReports: false,
  ranges: kafkaRangeKeys,
  topicPrefixes: (topic) => [`${topic}/`],
  classify(key) {
    if (key.startsWith(METADATA_PREFIX)) return { kind: 'own' };
    const named = parseBundleKeyStrictly(key);
    return named ? { kind: 'bundle', named } : { kind: 'foreign' };
  },
};
