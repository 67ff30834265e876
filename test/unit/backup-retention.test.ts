import { gzipSync } from 'node:zlib';
import { beforeEach, describe, expect, it } from 'vitest';
import type { BackupCut } from '../../connectors/common/backups.js';
import { backupsToRemove } from '../../app/catalogue/retention-policy.js';
import type { BackupRecord } from '../../app/catalogue/backup-record.js';
import { writeBackupManifest } from '../../connectors/backup-sink/backup-manifest-writer.js';
import { pruneBackups } from '../../connectors/backup-sink/backup-pruning.js';
import { readManifests } from '../../connectors/common/backup-manifests.js';
import { encodeKafkaBundle } from '../../connectors/layouts/kafka-v1/bundle-codec.js';
import { kafkaBundleKey } from '../../connectors/layouts/kafka-v1/bundle-keys.js';
import { topicMetadataKey } from '../../connectors/common/formats/backup-metadata.js';
import { LocalObjectStore } from '../../connectors/common/object-store/local-object-store.js';
import { verifyBackup } from '../../connectors/common/verify/index.js';
import { tmpDir } from '../helpers/tmp.js';

const DAY = 86_400_000;
const location = { bucket: 'events', prefix: '' };
const topic = 'orders';

/** Ten real bundles of ten records each on orders/0: offsets 0..99. */
async function writeBundles(store: LocalObjectStore): Promise<string[]> {
  const keys: string[] = [];
  for (let b = 0; b < 10; b++) {
    const start = BigInt(b * 10);
    const records = Array.from({ length: 10 }, (_, i) => ({
      topic,
      partition: 0,
      offset: start + BigInt(i),
      timestamp: 1_700_000_000_000 + b * 10 + i,
      timestampType: 'CREATE_TIME' as const,
      key: Buffer.from(`k${b * 10 + i}`),
      value: Buffer.from(`v${b * 10 + i}`),
      headers: [],
    }));
    const key = kafkaBundleKey(topic, 0, start, start + 9n);
    const { container, metadata } = encodeKafkaBundle(key, start, start + 9n, records);
    await store.putIfAbsent(location.bucket, key, gzipSync(container), metadata);
    keys.push(key);
  }
  return keys;
}

function cut(backupId: number, startOffset: bigint, endOffset: bigint): BackupCut {
  return {
    backupId,
    createdAt: Date.now(),
    partitions: [{ topic, partition: 0, startOffset, endOffset }],
    captured: {
      topics: { [topic]: { partitions: 1, replicationFactor: 1, configs: {}, capturedAt: new Date().toISOString() } },
      groupOffsets: { format: 'coldstore-group-offsets-v1', takenAt: 0, groups: {} },
    },
  };
}

describe('backup manifests and pruning (local store, real bundles)', () => {
  let store: LocalObjectStore;
  let keys: string[];
  const prune = (args: { remove: number[]; dryRun?: boolean; retentionDays?: number; now?: number; inProgress?: BackupCut['partitions'] }) =>
    pruneBackups({
      store,
      location,
      connector: 'backup',
      coversTopic: (t) => t === topic,
      retentionDays: args.retentionDays ?? 1,
      remove: args.remove,
      inProgress: args.inProgress ?? [],
      dryRun: args.dryRun ?? false,
      now: args.now ?? Date.now() + 2 * DAY,
    });
  const remaining = async () => {
    const out: string[] = [];
    for await (const o of store.list(location.bucket, `${topic}/`)) out.push(o.key);
    return out;
  };

  beforeEach(async () => {
    store = new LocalObjectStore(tmpDir('retention'));
    await store.ensureBucket(location.bucket);
    keys = await writeBundles(store);
    // Backup 1 holds offsets 15..44 (retention had removed 0..14), backup 2 holds 35..79.
    await writeBackupManifest({ store, location, connector: 'backup', layout: 'kafka', cut: cut(1, 15n, 45n) });
    await writeBackupManifest({ store, location, connector: 'backup', layout: 'kafka', cut: cut(2, 35n, 80n) });
  });

  it('lists in a manifest exactly the bundles holding offsets of the cut, with their checksums', async () => {
    const [manifest] = await readManifests(store, location, 1);
    const objects = manifest!.partitions[0]!.objects;
    expect(objects.map((o) => o.key)).toEqual(keys.slice(1, 5));
    expect(objects.every((o) => /^[0-9a-f]{64}$/.test(o.sha256) && o.records === 10 && o.size > 0)).toBe(true);
    expect(manifest!.partitions[0]).toMatchObject({ startOffset: 15, endOffset: 45 });
  });

  it('refuses to write a manifest over a hole in the bundles', async () => {
    await store.delete(location.bucket, keys[6]!);
    await expect(writeBackupManifest({ store, location, connector: 'backup', layout: 'kafka', cut: cut(3, 35n, 80n) })).rejects.toThrow(
      /offsets 60\.\.69 of orders\/0 are missing/,
    );
    // A missing first bundle of the cut, with an older one still there, is a hole too.
    await expect(writeBackupManifest({ store, location, connector: 'backup', layout: 'kafka', cut: cut(4, 65n, 75n) })).rejects.toThrow(
      /offsets 60\.\.69 of orders\/0 are missing/,
    );
  });

  it('deleting backup 1 removes its manifest and the bundles only it needed, from the oldest end; backup 2 keeps all of its own', async () => {
    const dry = await prune({ remove: [1], dryRun: true });
    expect(await remaining()).toEqual(keys);
    const done = await prune({ remove: [1] });
    expect(done).toEqual(dry);
    // Bundles 0..29 went: 0..9 and 10..19 only backup 1 or nobody needed, 20..29 too; 30..39 holds offset 35 of backup 2.
    expect(done.map((d) => d.key)).toEqual([expect.stringMatching(/^~coldstore\/backups\/0{19}1\/backup\.json$/), ...keys.slice(0, 3)]);
    expect(await remaining()).toEqual(keys.slice(3));
    expect(await readManifests(store, location, 1)).toEqual([]);
    expect((await readManifests(store, location, 2))[0]!.partitions[0]!.objects.map((o) => o.key)).toEqual(keys.slice(3, 8));
    const verified = await verifyBackup({ store, location, backupId: 2 });
    expect(verified.problems).toEqual([]);
    expect(verified).toMatchObject({ ok: true, objects: 5, records: 50 });
  });

  it('keeps bundles younger than the continuous window, and everything with a window of 0 days', async () => {
    expect((await prune({ remove: [1], now: Date.now() + DAY / 2 })).map((d) => d.key)).toEqual([expect.stringMatching(/backup\.json$/)]);
    expect(await remaining()).toEqual(keys);
    expect((await prune({ remove: [2], retentionDays: 0 })).map((d) => d.key)).toEqual([expect.stringMatching(/0{19}2\/backup\.json$/)]);
    expect(await remaining()).toEqual(keys);
  });

  it('spares what a backup still in progress will need, and always the newest bundle of a partition', async () => {
    const gone = await prune({ remove: [1, 2], inProgress: [{ topic, partition: 0, startOffset: 25n, endOffset: 30n }] });
    expect(gone.filter((d) => !d.key.startsWith('~')).map((d) => d.key)).toEqual(keys.slice(0, 2));
    const all = await prune({ remove: [] });
    expect(all.map((d) => d.key)).toEqual(keys.slice(2, 9));
    expect(await remaining()).toEqual([keys[9]]);
  });

  it('leaves compacted topics alone: their old bundles hold keys that are still live', async () => {
    await store.put(
      location.bucket,
      topicMetadataKey(topic),
      Buffer.from(
        JSON.stringify({ format: 'coldstore-topic-v1', topic, partitions: 1, replicationFactor: 1, configs: { 'cleanup.policy': 'compact' }, capturedAt: '' }),
      ),
      {},
    );
    expect((await prune({ remove: [1, 2] })).filter((d) => !d.key.startsWith('~'))).toEqual([]);
    expect(await remaining()).toEqual(keys);
  });

  it('never deletes bundles a remaining backup holds, even when the window let them go', async () => {
    const gone = await prune({ remove: [] });
    // Only 0..9: backup 1 starts at 15.
    expect(gone.map((d) => d.key)).toEqual([keys[0]]);
  });
});

describe('retention policy', () => {
  const record = (backupId: number, ageDays: number, status: BackupRecord['status'] = 'COMPLETED'): BackupRecord => ({
    backupId,
    status,
    failureReason: null,
    createdAt: Date.now() - ageDays * DAY,
    lastUpdatedAt: Date.now(),
    participants: [],
  });
  const records = [record(5, 0.1, 'IN_PROGRESS'), record(4, 1), record(3, 2, 'FAILED'), record(2, 3), record(1, 10)];

  it('keeps everything when neither limit is set', () => {
    expect(backupsToRemove(records, { count: 0, days: 0 }, Date.now())).toEqual([]);
  });

  it('keeps the newest N completed backups; one in progress always stays', () => {
    expect(backupsToRemove(records, { count: 1, days: 0 }, Date.now())).toEqual([3, 2, 1]);
    expect(backupsToRemove(records, { count: 2, days: 0 }, Date.now())).toEqual([3, 1]);
  });

  it('keeps backups younger than D days, or among the newest N when both are set', () => {
    expect(backupsToRemove(records, { count: 0, days: 2.5 }, Date.now())).toEqual([2, 1]);
    expect(backupsToRemove(records, { count: 2, days: 1.5 }, Date.now())).toEqual([3, 1]);
  });
});
