import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitBulk } from '../../connectors/layouts/azul/bulk.js';
import { bulkType } from '../../connectors/layouts/azul/registry.js';
import { AZUL_INDEX_PREFIX, AZUL_REJECTS_PREFIX } from '../../connectors/layouts/azul/objects.js';
import { binaryEvent, vectorEvents } from '../helpers/azul-vectors.js';
import { readBundle } from '../helpers/bundle-reader.js';
import { startDispatcherDouble, type DispatcherDouble } from '../helpers/dispatcher-double.js';
import { createTopic, produceRecords } from '../helpers/kafka.js';
import { fetchObjects, listKeys, s3Client, s3Settings } from '../helpers/s3.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Sum of a Prometheus metric's samples whose labels include these. */
function metricValue(text: string, name: string, labels: Record<string, string>): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

describe('BackupSink layout azul', () => {
  let t: TestApp;
  let dispatcher: DispatcherDouble;
  beforeAll(async () => {
    t = await createTestApp({ 'offset.flush.interval.ms': 100 }, { captureLogs: true });
    dispatcher = await startDispatcherDouble();
  });
  afterAll(async () => {
    await t.app.stop();
    await dispatcher.close();
  });

  function connectorConfig(label: string, prefix: string, extra: Record<string, string> = {}): Record<string, string> {
    return {
      'connector.class': 'BackupSink',
      'topics.regex': `azul\\.${prefix}\\..*`,
      layout: 'azul',
      'backup.label': label,
      'dispatcher.url': dispatcher.url,
      'bundle.max.age.ms': '500',
      'streams.spool.retry.ms': '300',
      ...s3Settings(),
      ...extra,
    };
  }

  const committed = async (name: string, topic: string, next: number) =>
    (await t.app.herder.getOffsets(name)).offsets.some((o) => o.partition['kafka_topic'] === topic && o.offset?.['kafka_offset'] === next);

  it("backs up the real vectors byte-exact under the Azul backup service's keys", async () => {
    const prefix = uniqueName('p').replace(/-/g, '');
    const label = uniqueName('azul').toLowerCase();
    const binaryTopic = `azul.${prefix}.virustotal.binary.enriched`;
    const deleteTopic = `azul.${prefix}.system.delete`;
    const insertTopic = `azul.${prefix}.system.insert`;
    for (const topic of [binaryTopic, deleteTopic, insertTopic]) await createTopic(topic, 1);
    const produced = { binary: vectorEvents('binary'), delete: vectorEvents('delete'), insert: vectorEvents('insert') };
    const topicOf = { binary: binaryTopic, delete: deleteTopic, insert: insertTopic };
    for (const [model, vectors] of Object.entries(produced)) {
      await produceRecords(vectors.map((v) => ({ topic: topicOf[model as keyof typeof topicOf], partition: 0, key: Buffer.from(v.kafkaKey), value: v.bytes })));
    }
    const name = uniqueName('azul-backup');
    await t.app.herder.putConfig(name, connectorConfig(label, prefix), true);
    for (const [model, vectors] of Object.entries(produced)) {
      await waitFor(`${model} committed`, () => committed(name, topicOf[model as keyof typeof topicOf], vectors.length), { timeoutMs: 30_000 });
    }

    const objects = await fetchObjects(s3Client(), `coldstore-${label}-events`);
    const bundles = objects.filter((o) => !o.key.startsWith('~coldstore/'));
    const last = (v: { timestamp: string; kafkaKey: string }[]) => v[v.length - 1]!;
    expect(bundles.map((b) => b.key).sort()).toEqual(
      [
        `virustotal/binary/enriched/${last(produced.binary).timestamp}-${produced.binary.length}-${last(produced.binary).kafkaKey}`,
        `system/delete/default/${last(produced.delete).timestamp}-${produced.delete.length}-${last(produced.delete).kafkaKey}`,
        `system/insert/default/${last(produced.insert).timestamp}-${produced.insert.length}-${last(produced.insert).kafkaKey}`,
      ].sort(),
    );
    // The timestamp form of the original service: RFC 3339, nanosecond precision with trailing zeros trimmed.
    expect(bundles.some((b) => b.key.startsWith('system/delete/default/2021-03-29T03:24:08.54928Z-4-'))).toBe(true);
    for (const bundle of bundles) {
      const model = bundle.key.split('/')[1] as keyof typeof produced;
      const bulk = gunzipSync(bundle.body);
      expect(bundle.metadata['coldstore-body-sha256']).toBe(sha256(bulk));
      const decoded = bulkType(model).fromBuffer(bulk) as { model_version: bigint; events: unknown[] };
      expect(decoded.model_version).toBe(6n);
      expect(decoded.events).toHaveLength(produced[model].length);
      expect(splitBulk(model, bulk).events.map((e) => sha256(e))).toEqual(produced[model].map((v) => sha256(v.bytes)));
    }
    // One index entry per range, naming the bundle: offsets stay provable though the keys carry none.
    const index = objects.filter((o) => o.key.startsWith(AZUL_INDEX_PREFIX)).map((o) => JSON.parse(o.body.toString()));
    expect(index.map((e) => e.bundle.key).sort()).toEqual(bundles.map((b) => b.key).sort());
    // The vectors' datastreams are not at the dispatcher: asked for once each, counted missing.
    const streamGets = dispatcher.requests.filter((r) => r.method === 'GET' && r.path.includes('/api/v3/stream/virustotal/'));
    expect(streamGets.length).toBeGreaterThan(0);
    expect(new Set(streamGets.map((r) => r.path)).size).toBe(streamGets.length);
    const metrics = (await t.call('GET', '/metrics')).text;
    expect(metricValue(metrics, 'coldstore_backup_azul_streams_total', { source: 'virustotal', result: 'missing' })).toBeGreaterThan(0);
    expect(metricValue(metrics, 'coldstore_backup_azul_events_total', { source: 'system', result: 'ok' })).toBe(
      produced.delete.length + produced.insert.length,
    );
    expect(metricValue(metrics, 'coldstore_backup_azul_events_total', { source: 'virustotal', result: 'ok' })).toBe(produced.binary.length);
    await t.call('DELETE', `/connectors/${name}`);
  });

  it('stores each blob once however many events refer to it, refuses mismatched bytes, keeps invalid records as rejects', async () => {
    const prefix = uniqueName('p').replace(/-/g, '');
    const label = uniqueName('azul').toLowerCase();
    const topic = `azul.${prefix}.src1.binary.sourced`;
    await createTopic(topic, 1);
    const [a, b, c] = ['blob A', 'blob B', 'blob C'].map((s) => Buffer.from(s.repeat(1000)));
    const shaA = dispatcher.addStream('src1', 'content', a!);
    const shaB = dispatcher.addStream('src1', 'content', b!);
    const shaC = dispatcher.addStream('src1', 'content', c!, { servedBytes: Buffer.from('tampered') });
    const events = [
      binaryEvent({ source: 'src1', kafkaKey: 'e1', timestampMicros: 1_700_000_000_000_001n, streams: [{ label: 'content', sha256: shaA }] }),
      binaryEvent({
        source: 'src1',
        kafkaKey: 'e2',
        timestampMicros: 1_700_000_000_000_002n,
        streams: [
          { label: 'content', sha256: shaA },
          { label: 'content', sha256: shaB },
        ],
      }),
      binaryEvent({ source: 'src1', kafkaKey: 'e3', timestampMicros: 1_700_000_000_000_003n, streams: [{ label: 'content', sha256: shaA }] }),
      binaryEvent({ source: 'src1', kafkaKey: 'e4', timestampMicros: 1_700_000_001_000_000n, streams: [{ label: 'content', sha256: shaC }] }),
    ];
    await produceRecords([
      ...events.slice(0, 2).map((value) => ({ topic, partition: 0, key: null, value })),
      { topic, partition: 0, key: Buffer.from('gone'), value: null },
      { topic, partition: 0, key: null, value: Buffer.from('not avro at all') },
      ...events.slice(2).map((value) => ({ topic, partition: 0, key: null, value })),
    ]);
    const name = uniqueName('azul-streams');
    await t.app.herder.putConfig(name, connectorConfig(label, prefix), true);
    await waitFor('all committed', () => committed(name, topic, 6), { timeoutMs: 30_000 });

    const streams = await fetchObjects(s3Client(), `coldstore-${label}-streams`);
    expect(streams.map((s) => s.key).sort()).toEqual([`src1/content/${shaA}`, `src1/content/${shaB}`].sort());
    for (const s of streams) expect(sha256(gunzipSync(s.body))).toBe(s.key.split('/')[2]);
    const gets = (sha: string) => dispatcher.requests.filter((r) => r.method === 'GET' && r.path.endsWith(sha)).length;
    expect(gets(shaA)).toBe(1);
    expect(gets(shaC)).toBeGreaterThanOrEqual(1);

    const objects = await fetchObjects(s3Client(), `coldstore-${label}-events`);
    const bundle = objects.find((o) => o.key.startsWith('src1/binary/sourced/'))!;
    // Timestamp form: .000001 keeps its digits; a whole second has no fraction.
    expect(bundle.key).toBe('src1/binary/sourced/2023-11-14T22:13:21Z-4-e4');
    expect(splitBulk('binary', gunzipSync(bundle.body)).events.map(sha256)).toEqual(events.map(sha256));
    const rejects = objects.find((o) => o.key.startsWith(AZUL_REJECTS_PREFIX))!;
    expect(readBundle(rejects.key.slice(AZUL_REJECTS_PREFIX.length), rejects.body).records.map((r) => Number(r.offset))).toEqual([2, 3]);
    const metrics = (await t.call('GET', '/metrics')).text;
    expect(metricValue(metrics, 'coldstore_backup_azul_streams_total', { source: 'src1', result: 'mismatch' })).toBe(1);
    expect(metricValue(metrics, 'coldstore_backup_azul_streams_total', { source: 'src1', result: 'stored' })).toBe(2);
    expect(metricValue(metrics, 'coldstore_backup_azul_events_total', { source: 'src1', result: 'invalid' })).toBe(2);
    await t.call('DELETE', `/connectors/${name}`);
  });

  it('dispatcher down: fails after N consecutive failures with its spool in the streams bucket, and a restart completes the backup', async () => {
    const prefix = uniqueName('p').replace(/-/g, '');
    const label = uniqueName('azul').toLowerCase();
    const topic = `azul.${prefix}.src2.binary.sourced`;
    await createTopic(topic, 1);
    const blobs = Array.from({ length: 8 }, (_, i) => Buffer.from(`blob ${i} `.repeat(500)));
    const shas = blobs.map((blob) => dispatcher.addStream('src2', 'content', blob));
    dispatcher.fail({ method: 'GET', path: /\/api\/v3\/stream\/src2\//, status: 503 });
    const events = shas.map((sha, i) =>
      binaryEvent({ source: 'src2', kafkaKey: `k${i}`, timestampMicros: 1_700_000_000_000_000n + BigInt(i), streams: [{ label: 'content', sha256: sha }] }),
    );
    await produceRecords(events.map((value) => ({ topic, partition: 0, key: null, value })));
    const name = uniqueName('azul-down');
    // streams.spool.dir is obsolete (the spool is in the object store); an old config that still sets it is accepted and the directory left unused.
    const oldSpoolDir = tmpDir('old-spool');
    const config = connectorConfig(label, prefix, { 'streams.max.consecutive.failures': '3', 'streams.max.in.flight': '2', 'streams.spool.dir': oldSpoolDir });
    await t.app.herder.putConfig(name, config, true);
    const failed = await waitFor(
      'task failed',
      async () => {
        const status = await t.call('GET', `/connectors/${name}/status`);
        return status.body?.tasks?.[0]?.state === 'FAILED' ? status.body.tasks[0] : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(failed.trace).toContain('DISPATCHER_FAILED');
    const streamsBucket = `coldstore-${label}-streams`;
    const spoolPrefix = `~coldstore/spool/${name}/`;
    expect(failed.trace).toContain(`spooled in ${streamsBucket}/${spoolPrefix}`);
    const spooled = await listKeys(s3Client(), streamsBucket, spoolPrefix);
    expect(spooled.length).toBeGreaterThan(0);
    for (const key of spooled) expect(key).toMatch(new RegExp(`^${spoolPrefix}[0-9a-f]{64}\\.src2\\.content\\.json$`));
    expect(existsSync(oldSpoolDir) ? readdirSync(oldSpoolDir) : []).toEqual([]);
    expect(t.logs.some((l) => l.includes(name) && l.includes('streams.spool.dir is obsolete and ignored'))).toBe(true);
    expect(await committed(name, topic, 8)).toBe(false);

    dispatcher.clearFailures();
    expect((await t.call('POST', `/connectors/${name}/tasks/0/restart`)).status).toBeLessThan(300);
    await waitFor('all committed after the restart', () => committed(name, topic, 8), { timeoutMs: 60_000 }).catch(async (e) => {
      console.log(
        t.logs
          .filter((l) => l.includes(name))
          .slice(-40)
          .join(''),
      );
      console.log(JSON.stringify((await t.call('GET', `/connectors/${name}/status`)).body));
      throw e;
    });
    await waitFor('spool drained', async () => (await listKeys(s3Client(), streamsBucket, spoolPrefix)).length === 0, { timeoutMs: 30_000 });
    // Only the blobs are left in the streams bucket: the drained spool leaves nothing behind.
    const streams = await fetchObjects(s3Client(), streamsBucket);
    expect(streams.map((s) => s.key).sort()).toEqual(shas.map((sha) => `src2/content/${sha}`).sort());
    const bundles = (await fetchObjects(s3Client(), `coldstore-${label}-events`)).filter((o) => o.key.startsWith('src2/'));
    expect(bundles.flatMap((b) => splitBulk('binary', gunzipSync(b.body)).events.map(sha256)).sort()).toEqual(events.map(sha256).sort());
    await t.call('DELETE', `/connectors/${name}`);
  });
  it('reads and commits the topics of excluded sources without writing anything for them', async () => {
    const prefix = uniqueName('p').replace(/-/g, '');
    const label = uniqueName('azul').toLowerCase();
    const [kept, excluded] = [`azul.${prefix}.keep.binary.sourced`, `azul.${prefix}.skip.binary.sourced`];
    await createTopic(kept, 1);
    await createTopic(excluded, 1);
    const event = (source: string, key: string) => binaryEvent({ source, kafkaKey: key, timestampMicros: 1_700_000_000_000_000n, streams: [] });
    await produceRecords([
      { topic: kept, partition: 0, key: null, value: event('keep', 'k1') },
      { topic: excluded, partition: 0, key: null, value: event('skip', 's1') },
      { topic: excluded, partition: 0, key: null, value: event('skip', 's2') },
    ]);
    const name = uniqueName('azul-exclude');
    await t.app.herder.putConfig(name, connectorConfig(label, prefix, { 'azul.sources.exclude': 'skip' }), true);
    await waitFor('both committed', async () => (await committed(name, kept, 1)) && (await committed(name, excluded, 2)), { timeoutMs: 30_000 });
    const keys = (await fetchObjects(s3Client(), `coldstore-${label}-events`)).map((o) => o.key);
    expect(keys.filter((k) => !k.startsWith('~coldstore/topics/') && !k.startsWith('~coldstore/groups/'))).toEqual([
      'keep/binary/sourced/2023-11-14T22:13:20Z-1-k1',
      `${AZUL_INDEX_PREFIX}${kept}/0/00000000000000000000-00000000000000000000.json`,
      `~coldstore/claims/${kept}/0/00000000000000000000`,
      `~coldstore/claims/${kept}/0/first`,
    ]);
    await t.call('DELETE', `/connectors/${name}`);
  });
});
