import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupLocationConfig } from '../../connectors/common/backup-location.js';
import { readManifests } from '../../connectors/common/backup-manifests.js';
import { createObjectStore } from '../../connectors/common/object-store/store-config.js';
import { inspectBundle } from '../../connectors/common/verify/index.js';
import { readPartitions, type BrokerRecord } from '../helpers/broker-records.js';
import { createTopic, produceSteadily, produceTransactions } from '../helpers/kafka.js';
import { listKeys, s3Client, s3Settings } from '../helpers/s3.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

interface PartitionView {
  topic: string;
  partition: number;
  startOffset: number;
  endOffset: number;
  durableOffset: number | null;
  status: string;
}

describe('backups by id (real broker, S3Proxy)', () => {
  let worker: TestApp;
  const label = uniqueName('bid')
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '');
  const events = `coldstore-${label}-events`;
  const storage = { ...s3Settings(), 'backup.label': label };
  const busy = uniqueName('busy');
  const txn = uniqueName('txn');
  const PARTITIONS = 3;
  let producing: Promise<void>;
  const cuts = new Map<number, PartitionView[]>();

  async function backup(id: number): Promise<PartitionView[]> {
    const created = await worker.call('POST', `/backups/${id}`);
    expect(created.status, created.text).toBe(202);
    expect(created.body).toEqual({ id });
    const done = await waitFor(
      `backup ${id} COMPLETED`,
      async () => {
        const reply = await worker.call('GET', `/backups/${id}`);
        if (reply.body.status === 'FAILED') throw new Error(`backup ${id} failed: ${reply.body.failureReason}`);
        return reply.body.status === 'COMPLETED' ? reply.body : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    return done.partitions as PartitionView[];
  }

  async function restore(backupId: number, topic: string): Promise<string> {
    const target = `${topic}-restored-${backupId}`;
    const name = uniqueName('restore');
    await worker.app.herder.putConfig(
      name,
      {
        'connector.class': 'RestoreSource',
        ...storage,
        topics: topic,
        'topic.rename': `${topic}:${target}`,
        'restore.backup.id': String(backupId),
        'transaction.boundary': 'poll',
      },
      true,
    );
    await waitFor(
      `${name} FINISHED`,
      () => {
        const s = worker.app.herder.status(name);
        const failed = s.tasks.find((t) => t.state === 'FAILED') ?? (s.connector.state === 'FAILED' ? s.connector : undefined);
        if (failed) throw new Error(`restore failed: ${failed.trace}`);
        return s.tasks.length > 0 && s.tasks.every((t) => t.state === 'FINISHED');
      },
      { timeoutMs: 60_000 },
    );
    return target;
  }

  const values = (records: BrokerRecord[]) => records.map((r) => `${r.partition}:${r.key?.toString()}=${r.value?.toString()}`);

  beforeAll(async () => {
    await createTopic(busy, PARTITIONS);
    await createTopic(txn, 1);
    // A committed transaction ends with a marker after its last record: the cut lies past
    // every record, so the backup completes only if markers count as backed up.
    await produceTransactions(txn, 0, [
      { commit: true, values: ['t1', 't2', 't3'] },
      { commit: false, values: ['gone'] },
      { commit: true, values: ['t4'] },
    ]);
    worker = await createTestApp({ 'offset.flush.interval.ms': 200, 'backups.retain.count': 2 });
    // Bundles would stay open for 10 minutes: a backup by id must flush them itself.
    await worker.app.herder.putConfig(
      uniqueName('backup'),
      { 'connector.class': 'BackupSink', topics: `${busy},${txn}`, 'bundle.max.records': '50', 'bundle.max.age.ms': '600000', 'gzip.level': '1', ...storage },
      true,
    );
    producing = produceSteadily(busy, PARTITIONS, 0, 1500, 10, 80);
    await new Promise((r) => setTimeout(r, 2_000));
  }, 120_000);

  afterAll(async () => {
    await producing?.catch(() => undefined);
    await worker?.app.stop();
  });

  it('takes two backups while producers write; each completes with a manifest and a cut on every partition', async () => {
    cuts.set(1, await backup(1));
    await new Promise((r) => setTimeout(r, 1500));
    cuts.set(2, await backup(2));
    await producing;
    for (const id of [1, 2]) {
      const partitions = cuts.get(id)!;
      expect(partitions.map((p) => `${p.topic}/${p.partition}`).sort()).toEqual(
        [...Array.from({ length: PARTITIONS }, (_, p) => `${busy}/${p}`), `${txn}/0`].sort(),
      );
      for (const p of partitions) {
        expect(p.status).toBe('COMPLETED');
        expect(p.durableOffset).toBeGreaterThanOrEqual(p.endOffset);
      }
    }
    const busy1 = cuts.get(1)!.filter((p) => p.topic === busy);
    const busy2 = cuts.get(2)!.filter((p) => p.topic === busy);
    // Producers kept writing: the second cut is later on every partition, and neither is the end.
    busy1.forEach((p, i) => expect(busy2[i]!.endOffset).toBeGreaterThan(p.endOffset));
    expect(busy2.every((p) => p.endOffset < 1500)).toBe(true);
    // Five records and three markers: the cut is past the last commit marker.
    expect(cuts.get(1)!.find((p) => p.topic === txn)!.endOffset).toBe(8);
    const manifests = await listKeys(s3Client(), events, '~coldstore/backups/0');
    expect(manifests).toHaveLength(2);
    expect(manifests[0]).toMatch(/^~coldstore\/backups\/0{19}1\/.+\.json$/);
    const list = await worker.call('GET', '/backups');
    expect(list.body.map((b: { backupId: number; status: string }) => [b.backupId, b.status])).toEqual([
      [2, 'COMPLETED'],
      [1, 'COMPLETED'],
    ]);
  }, 180_000);

  it('refuses an id that is not greater than every earlier one, and a malformed id', async () => {
    for (const id of [1, 2]) {
      const reply = await worker.call('POST', `/backups/${id}`);
      expect(reply.status).toBe(409);
      expect(reply.body.code).toBe('BACKUP_ID_CONFLICT');
      expect(reply.body.message).toMatch(/not greater than 2.*Use 3 or more/);
    }
    expect((await worker.call('POST', '/backups/x1')).status).toBe(400);
    const missing = await worker.call('GET', '/backups/99');
    expect(missing.status).toBe(404);
    expect(missing.body.status).toBe('DOES_NOT_EXIST');
  });

  it('restoring backup 1 yields exactly the records inside its cut on every partition, and nothing after it', async () => {
    const cut = cuts.get(1)!.filter((p) => p.topic === busy);
    const source = await readPartitions(cut.map((p) => ({ topic: busy, partition: p.partition })));
    const inside = source.filter((r) => r.offset < BigInt(cut.find((p) => p.partition === r.partition)!.endOffset));
    expect(inside.length).toBeLessThan(source.length);
    // The bundles manifest 1 lists (all written before it completed) hold every record of the cut.
    const store = createObjectStore(backupLocationConfig.validate(storage).values);
    const location = { bucket: events, prefix: '' };
    const [manifest] = await readManifests(store, location, 1);
    const listed: string[] = [];
    for (const p of manifest!.partitions.filter((q) => q.topic === busy)) {
      for (const object of p.objects) {
        for await (const r of inspectBundle({ store, location, key: object.key })) if (r.offset < p.endOffset) listed.push(`${r.partition}:${r.offset}`);
      }
    }
    expect(listed.sort()).toEqual(inside.map((r) => `${r.partition}:${r.offset}`).sort());
    const target = await restore(1, busy);
    const restored = await readPartitions(cut.map((p) => ({ topic: target, partition: p.partition })));
    expect(values(restored)).toEqual(values(inside));
    expect(restored.length).toBe(cut.reduce((n, p) => n + (p.endOffset - p.startOffset), 0));
  }, 120_000);

  it('restores a transactional topic from backup 2: the committed records, none aborted', async () => {
    const target = await restore(2, txn);
    const restored = await readPartitions([{ topic: target, partition: 0 }]);
    expect(restored.map((r) => r.value?.toString())).toEqual(['t1', 't2', 't3', 't4']);
  }, 120_000);

  it('verifies a kept backup over REST, and deleting backup 1 removes its manifest only (the continuous backup keeps every bundle)', async () => {
    const verified = await worker.call('POST', '/backups/2/verify');
    expect(verified.status, verified.text).toBe(200);
    expect(verified.body.ok).toBe(true);
    const before = await listKeys(s3Client(), events);
    const dry = await worker.call('DELETE', '/backups/1?dryRun=true');
    expect(dry.status).toBe(200);
    expect(dry.body.deleted.map((d: { key: string }) => d.key)).toEqual([expect.stringMatching(/^~coldstore\/backups\/0{19}1\//)]);
    expect(await listKeys(s3Client(), events)).toEqual(before);
    const gone = await worker.call('DELETE', '/backups/1');
    expect(gone.body.deleted).toEqual(dry.body.deleted);
    expect(await listKeys(s3Client(), events)).toEqual(before.filter((k) => k !== dry.body.deleted[0].key));
    expect((await worker.call('GET', '/backups/1')).status).toBe(404);
    // A deleted id is never taken again.
    expect((await worker.call('POST', '/backups/1')).status).toBe(409);
  });

  it('applies backups.retain.count when a backup completes: backup 4 makes backup 2 go, manifest and record', async () => {
    await backup(3);
    expect((await worker.call('GET', '/backups')).body.map((b: { backupId: number }) => b.backupId)).toEqual([3, 2]);
    expect((await worker.call('POST', '/backups/retention?dryRun=true')).body.removedBackups).toEqual([]);
    await backup(4);
    await waitFor('backup 2 removed by retention', async () => (await worker.call('GET', '/backups/2')).status === 404, { timeoutMs: 10_000 });
    expect((await worker.call('GET', '/backups')).body.map((b: { backupId: number }) => b.backupId)).toEqual([4, 3]);
    const manifests = await listKeys(s3Client(), events, '~coldstore/backups/0');
    expect(manifests.map((k) => k.split('/')[2])).toEqual(['00000000000000000003', '00000000000000000004']);
  }, 120_000);
});
