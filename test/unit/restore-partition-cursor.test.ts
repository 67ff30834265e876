// RestoreSource's per-partition cursor and its bounds (connectors/restore-source/
// partition-bounds.ts, partition-cursor.ts): the point-in-time settings and a backup
// by id's cut become one set of bounds per partition; the cursor applies the offset
// bounds through its reader and the timestamp bound to each bundle, over a real
// LocalObjectStore holding real kafka-v1 bundles.
import { rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SinkRecord } from '../../runtime/api/index.js';
import type { BackupPlan } from '../../connectors/restore-source/backup-plan.js';
import { restoreSourceConfig } from '../../connectors/restore-source/config.js';
import { partitionBounds, untilTimestampOf, withinTimestamp, type PartitionBounds } from '../../connectors/restore-source/partition-bounds.js';
import { PartitionCursor, type ResumePoint } from '../../connectors/restore-source/partition-cursor.js';
import type { Location } from '../../connectors/common/backup-location.js';
import { encodeKafkaBundle, type BackedUpRecord } from '../../connectors/layouts/kafka-v1/bundle-codec.js';
import { kafkaBundleKey } from '../../connectors/layouts/kafka-v1/bundle-keys.js';
import { LocalObjectStore } from '../../connectors/common/object-store/local-object-store.js';
import { tmpDir } from '../helpers/tmp.js';

const BASE_TIME = 1_700_000_000_000;

const settingsOf = (config: Record<string, string>) => restoreSourceConfig.validate({ topics: 't', ...config }).values;

function planWith(ranges: Record<string, [bigint, bigint]>): BackupPlan {
  return {
    backupId: 3,
    ranges: new Map(Object.entries(ranges).map(([key, [start, end]]) => [key, { start, end, objects: [] }])),
    topics: {},
    groupSnapshot: undefined,
  };
}

describe('partitionBounds', () => {
  const partitions = [
    { topic: 't', partition: 0 },
    { topic: 't', partition: 1 },
  ];

  it('no point-in-time setting: no bound on any partition', () => {
    const bounds = partitionBounds(settingsOf({}), undefined, partitions);
    expect([...bounds]).toEqual([
      ['t/0', {}],
      ['t/1', {}],
    ]);
  });

  it('restore.until.offsets bounds only the partitions it lists; restore.until.timestamp bounds every one', () => {
    const bounds = partitionBounds(settingsOf({ 'restore.until.offsets': 't:1:41', 'restore.until.timestamp': '2023-11-14T22:13:20Z' }), undefined, partitions);
    expect(bounds.get('t/0')).toEqual({ untilTimestamp: BASE_TIME });
    expect(bounds.get('t/1')).toEqual({ untilOffset: 41n, untilTimestamp: BASE_TIME });
  });

  it('a backup by id bounds each partition by its cut: start..end-1', () => {
    const bounds = partitionBounds(
      settingsOf({ 'restore.backup.id': '3', 'restore.until.timestamp': String(BASE_TIME + 5) }),
      planWith({ 't/0': [10n, 20n], 't/1': [0n, 7n] }),
      partitions,
    );
    expect(bounds.get('t/0')).toEqual({ fromOffset: 10n, untilOffset: 19n, untilTimestamp: BASE_TIME + 5 });
    expect(bounds.get('t/1')).toEqual({ fromOffset: 0n, untilOffset: 6n, untilTimestamp: BASE_TIME + 5 });
  });

  it('untilTimestampOf reads ISO 8601 and epoch milliseconds', () => {
    expect(untilTimestampOf(settingsOf({}))).toBeUndefined();
    expect(untilTimestampOf(settingsOf({ 'restore.until.timestamp': '2023-11-14T22:13:20Z' }))).toBe(BASE_TIME);
    expect(untilTimestampOf(settingsOf({ 'restore.until.timestamp': '1700000000123' }))).toBe(BASE_TIME + 123);
  });

  it('withinTimestamp keeps records at or before the bound, in order, and everything without one', () => {
    const records = [3, 1, 4, 1, 5].map((t, i) => ({ offset: BigInt(i), timestamp: BASE_TIME + t }) as BackedUpRecord);
    expect(withinTimestamp(records, {})).toBe(records);
    expect(withinTimestamp(records, { untilTimestamp: BASE_TIME + 3 }).map((r) => r.offset)).toEqual([0n, 1n, 3n]);
  });
});

for (const prefix of ['', 'events/']) {
  describe(`PartitionCursor (location prefix "${prefix}")`, () => {
    const TOPIC = 't';
    const PARTITION = 2;
    const location: Location = { bucket: 'backup', prefix };
    let dir: string;
    let store: LocalObjectStore;

    /** Timestamps do not grow with offsets: record n is stamped BASE_TIME + (n * 7) % 10. */
    const stamp = (offset: number) => BASE_TIME + ((offset * 7) % 10);
    const rec = (offset: number): SinkRecord => ({
      topic: TOPIC,
      partition: PARTITION,
      offset: BigInt(offset),
      timestamp: stamp(offset),
      timestampType: 'CREATE_TIME',
      key: Buffer.from(`k${offset}`),
      value: Buffer.from(`v${offset}`),
      headers: [],
    });
    const KEYS = [kafkaBundleKey(TOPIC, PARTITION, 0n, 4n), kafkaBundleKey(TOPIC, PARTITION, 5n, 9n), kafkaBundleKey(TOPIC, PARTITION, 10n, 14n)];

    beforeEach(async () => {
      dir = tmpDir('restore-cursor');
      store = new LocalObjectStore(dir);
      await store.ensureBucket(location.bucket);
      for (const [i, key] of KEYS.entries()) {
        const start = BigInt(i * 5);
        const { container, metadata } = encodeKafkaBundle(
          key,
          start,
          start + 4n,
          [0, 1, 2, 3, 4].map((n) => rec(i * 5 + n)),
        );
        await store.putIfAbsent(location.bucket, `${prefix}${key}`, gzipSync(container), metadata);
      }
    });

    afterEach(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    function cursor(bounds: PartitionBounds, resume?: ResumePoint): PartitionCursor {
      return new PartitionCursor({
        store,
        location,
        tp: { topic: TOPIC, partition: PARTITION },
        bounds,
        resume,
        fetchAhead: 2,
        onBadObject: (err) => {
          throw err;
        },
      });
    }

    /** Every slice of at most `max` records: [bundle key, offsets]; and the keys of the bundles read. */
    async function drain(c: PartitionCursor, max: number): Promise<{ slices: [string, number[]][]; read: string[] }> {
      const slices: [string, number[]][] = [];
      const read: string[] = [];
      for (;;) {
        if (c.needsBundle) {
          const bundle = await c.nextBundle();
          if (!bundle) return { slices, read };
          read.push(bundle.key);
          continue;
        }
        const { key, records } = c.take(max);
        slices.push([key, records.map((r) => Number(r.offset))]);
      }
    }

    it('hands out every record in slices of at most max, keyed by bundle key without the location prefix', async () => {
      const c = cursor({});
      expect(c.sourcePartition).toEqual({ topic: TOPIC, partition: PARTITION });
      expect(c.tp).toEqual({ topic: TOPIC, partition: PARTITION });
      const { slices, read } = await drain(c, 3);
      expect(slices).toEqual([
        [KEYS[0], [0, 1, 2]],
        [KEYS[0], [3, 4]],
        [KEYS[1], [5, 6, 7]],
        [KEYS[1], [8, 9]],
        [KEYS[2], [10, 11, 12]],
        [KEYS[2], [13, 14]],
      ]);
      expect(read).toEqual(KEYS.map((k) => `${prefix}${k}`));
    });

    it('applies the timestamp bound to every bundle (a filter, not a cut): bundles left empty are still read', async () => {
      const until = BASE_TIME + 2;
      const { slices, read } = await drain(cursor({ untilTimestamp: until }), 100);
      const expected = Array.from({ length: 15 }, (_, n) => n).filter((n) => stamp(n) <= until);
      expect(slices.flatMap(([, offsets]) => offsets)).toEqual(expected);
      expect(read).toHaveLength(3);
    });

    it('applies the offset bounds through its reader, and both kinds of bound together', async () => {
      const offsets = await drain(cursor({ fromOffset: 3n, untilOffset: 11n }), 100);
      expect(offsets.slices.flatMap(([, o]) => o)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11]);
      const both = await drain(cursor({ fromOffset: 3n, untilOffset: 11n, untilTimestamp: BASE_TIME + 4 }), 100);
      expect(both.slices.flatMap(([, o]) => o)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11].filter((n) => stamp(n) <= BASE_TIME + 4));
    });

    it('resumes after the record it stopped at, in the bundle holding it', async () => {
      const { slices } = await drain(cursor({ untilOffset: 12n }, { key: KEYS[1]!, offset: 6n }), 100);
      expect(slices).toEqual([
        [KEYS[1], [7, 8, 9]],
        [KEYS[2], [10, 11, 12]],
      ]);
    });
  });
}
