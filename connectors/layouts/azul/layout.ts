import { METADATA_PREFIX } from '../../common/formats/backup-metadata.js';
import { parseBundleKeyStrictly } from '../kafka-v1/bundle-keys.js';
import type { Layout, RangeKeys } from '../layout.js';
import { parseAzulTopic } from './keys.js';
import { AZUL_INDEX_PREFIX, AZUL_REJECTS_PREFIX, azulIndexStartAfter, FORMAT_AZUL_INDEX, parseAzulIndexKey } from './objects.js';

/** An azul bundle's key carries no offsets: a range's index entry is what proves it durable. */
export const azulRangeKeys: RangeKeys = {
  prefix: (tp) => `${AZUL_INDEX_PREFIX}${tp.topic}/${tp.partition}/`,
  startAfter: (tp, offset) => azulIndexStartAfter(tp.topic, tp.partition, offset),
  parse: parseAzulIndexKey,
  format: FORMAT_AZUL_INDEX,
};

/**
 * Layout `azul`: Azul's event bundles at `<source>/<model>/<action>/…`, the records
 * that are not valid events in kafka-v1 rejects bundles, and an index entry per range.
 */
export const azulLayout: Layout = {
  name: 'azul',
  namedInReports: true,
  ranges: azulRangeKeys,
  topicPrefixes(topic) {
    const azul = parseAzulTopic(topic);
    // Several topics (other prefixes) share a group: the metadata says whose each bundle is.
    return azul ? [`${azul.source}/${azul.model}/${azul.action}/`, `${AZUL_REJECTS_PREFIX}${topic}/`] : [];
  },
  classify(key) {
    const rejects = key.startsWith(AZUL_REJECTS_PREFIX);
    if (key.startsWith(METADATA_PREFIX) && !rejects) return { kind: 'own' };
    // An azul event bundle's key has no offsets: its metadata tells.
    if (!rejects) return { kind: 'bundle-by-metadata' };
    const named = parseBundleKeyStrictly(key.slice(AZUL_REJECTS_PREFIX.length));
    return named ? { kind: 'bundle', named } : { kind: 'foreign' };
  },
};
