// RestoreSource with target=dispatcher: an azul-layout backup on the stack's S3 server
// (written with the plain SDK from Azul's real test vectors) posted to a dispatcher
// double over real HTTP: streams first, then each (source, model, action) group in key
// order; 425s, partial failures, transient errors, bad objects and resuming.
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../app/app.js';
import { binaryEvent, vectorEvents } from '../helpers/azul-vectors.js';
import { putObject, sha256, writeAzulBackup, type AzulBackup, type BundlePlan } from '../helpers/azul-backup.js';
import { startDispatcherDouble, type DispatcherDouble } from '../helpers/dispatcher-double.js';
import { s3Client, s3Settings } from '../helpers/s3.js';
import { badFields, createTestApp, metricSample, type TestApp } from '../helpers/test-app.js';
import { uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

interface Event {
  bytes: Buffer;
  kafkaKey: string;
}

const vectors = { binary: vectorEvents('binary'), delete: vectorEvents('delete'), insert: vectorEvents('insert') };
const vector = (model: keyof typeof vectors, name: string): Event => {
  const found = vectors[model].find((v) => v.name === `${name}.json.avro`);
  if (!found) throw new Error(`no vector ${model}/${name}`);
  return found;
};
/** A binary event of its own (a real vector with another source, key and time), so each bundle can be told apart. */
const made = (source: string, kafkaKey: string, n = 0): Event => ({
  bytes: binaryEvent({ source, kafkaKey, timestampMicros: 1_709_251_200_000_000n + BigInt(n), streams: [] }),
  kafkaKey,
});
const plan = (group: string, time: string, events: Event[]): BundlePlan => {
  const [source, model, action] = group.split('/') as [string, string, string];
  return { source, model, action, time, kafkaKey: events[events.length - 1]!.kafkaKey, events: events.map((e) => e.bytes) };
};

/** Two days of bundles over two sources and three binary actions, plus the system delete and insert models; every event's bytes occur once. */
function standardPlans(): BundlePlan[] {
  const b = (name: string) => vector('binary', name);
  return [
    plan('alpha/binary/sourced', '2024-03-01T08:00:00.5Z', [b('augmented'), b('enriched')]),
    plan('alpha/binary/sourced', '2024-03-01T09:30:00Z', [b('extracted')]),
    plan('alpha/binary/sourced', '2024-03-02T00:00:01.000001Z', [b('enriched_w_data'), made('alpha', 'a-s-1')]),
    plan('alpha/binary/extracted', '2024-03-01T10:00:00Z', [b('augmented_no_extra')]),
    plan('alpha/binary/extracted', '2024-03-02T10:00:00Z', [b('enriched_w_info_list'), made('alpha', 'a-e-1')]),
    plan('beta/binary/augmented', '2024-03-01T11:00:00Z', [b('enriched_w_info_dict')]),
    plan('beta/binary/augmented', '2024-03-02T11:00:00.25Z', [b('invalid_path'), made('beta', 'b-a-1'), made('beta', 'b-a-2')]),
    plan('system/delete/default', '2024-03-01T12:00:00Z', [vector('delete', 'author'), vector('delete', 'submission-simple')]),
    plan('system/delete/default', '2024-03-02T12:00:00Z', [vector('delete', 'link'), vector('delete', 'submission-complex')]),
    plan('system/insert/default', '2024-03-02T13:00:00Z', [vector('insert', 'example1')]),
  ];
}

const standardBlobs = () => ({
  'alpha/content': [Buffer.from('alpha blob one'), Buffer.alloc(70_000, 7), Buffer.from([0, 1, 2, 255])],
  'alpha/deob_js': [Buffer.from('var x = 1;')],
  'beta/content': [Buffer.from('beta blob'), Buffer.from('beta blob 2')],
});

const hex = (b: Buffer) => b.toString('hex');
const sortedHex = (list: readonly Buffer[]) => list.map(hex).sort();

/** Index of the last stream upload and of the first event post among the requests the double saw. */
function uploadOrder(double: DispatcherDouble): { lastStream: number; firstEvent: number } {
  const isStream = (r: { method: string; path: string }) => r.method === 'POST' && r.path.startsWith('/api/v3/stream/');
  const isEvent = (r: { path: string }) => r.path.startsWith('/api/v2/event');
  return { lastStream: double.requests.findLastIndex(isStream), firstEvent: double.requests.findIndex(isEvent) };
}

/** The bundle each accepted bulk was, in arrival order, checked to hold exactly that bundle's events (every event accepted). */
function postedBundles(double: DispatcherDouble, backup: AzulBackup): string[] {
  const owner = new Map<string, AzulBackup['bundles'][number]>();
  for (const bundle of backup.bundles) for (const e of bundle.events) owner.set(hex(e), bundle);
  const out: string[] = [];
  let at = 0;
  for (const bulk of double.bulks) {
    const events = double.events.slice(at, at + bulk.count).map((e) => e.bytes);
    at += bulk.count;
    const bundle = owner.get(hex(events[0]!));
    expect(bundle, 'a posted event that is not in the backup').toBeDefined();
    expect(events.map(hex)).toEqual(bundle!.events.map(hex));
    expect(bulk.model).toBe(bundle!.model);
    out.push(bundle!.key);
  }
  expect(at).toBe(double.events.length);
  return out;
}

/** Each group's bundle keys in the order they were posted. */
function perGroup(keys: readonly string[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const key of keys) {
    const group = key.split('/').slice(0, 3).join('/');
    groups.set(group, [...(groups.get(group) ?? []), key]);
  }
  return groups;
}

function expectedPerGroup(backup: AzulBackup): Map<string, string[]> {
  return perGroup(backup.bundles.map((b) => b.key));
}

type Status = ReturnType<App['herder']['status']>;
type Progress = {
  phase: string;
  streams: { listed: number; posted: number; bad: number };
  events: { bundles: number; events_ok: number; events_failed: number; bundles_filtered: number; events_filtered: number; bad: number };
  bad_objects: number;
  skipped?: { kind: string; key: string; message: string }[];
  failures?: { key: string; error: string; event?: string }[];
  groups: Record<string, string>;
  stream_watermarks: Record<string, string>;
};

describe('RestoreSource target=dispatcher (stack S3, dispatcher double over HTTP)', () => {
  let test: TestApp;
  let app: App;
  let double: DispatcherDouble;
  const client = s3Client();

  beforeAll(async () => {
    test = await createTestApp({});
    app = test.app;
  });
  afterAll(async () => {
    await app?.stop();
  });
  beforeEach(async () => {
    double = await startDispatcherDouble();
  });
  afterEach(async () => {
    await double.close();
  });

  async function backup(plans = standardPlans(), blobs: Record<string, Buffer[]> = standardBlobs()): Promise<{ label: string; backup: AzulBackup }> {
    const label = uniqueName('rd').toLowerCase();
    return { label, backup: await writeAzulBackup(client, label, plans, blobs) };
  }

  const config = (label: string, extra: Record<string, string> = {}) => ({
    'connector.class': 'RestoreSource',
    target: 'dispatcher',
    'dispatcher.url': double.url,
    ...s3Settings(),
    'backup.label': label,
    ...extra,
  });

  async function settle(name: string, want: 'FINISHED' | 'FAILED', timeoutMs = 60_000): Promise<Status> {
    return waitFor(
      `${name} ${want}`,
      () => {
        const s = app.herder.status(name);
        const failed = s.tasks.find((t) => t.state === 'FAILED') ?? (s.connector.state === 'FAILED' ? s.connector : undefined);
        if (failed && want === 'FINISHED') throw new Error(`restore failed: ${failed.trace}`);
        if (want === 'FAILED') return failed ? s : undefined;
        return s.tasks.length > 0 && s.tasks.every((t) => t.state === 'FINISHED') ? s : undefined;
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  async function restore(label: string, extra: Record<string, string> = {}, want: 'FINISHED' | 'FAILED' = 'FINISHED') {
    const name = uniqueName('restore-dispatcher');
    await app.herder.putConfig(name, config(label, extra), true);
    const status = await settle(name, want);
    return { name, status, progress: status.tasks[0]?.progress as Progress | undefined };
  }

  it('refuses configs that mix the targets up, naming the field (HTTP 400)', async () => {
    const put = (body: Record<string, string>) => test.call('PUT', `/connectors/${uniqueName('bad')}/config`, body);
    const base = { 'connector.class': 'RestoreSource', ...s3Settings() };
    let reply = await put({ ...base, target: 'dispatcher' });
    expect(reply.status, reply.text).toBe(400);
    expect(badFields(reply)).toEqual(['dispatcher.url']);
    reply = await put({ ...base });
    expect(reply.status, reply.text).toBe(400);
    expect(badFields(reply)).toEqual(['topics']);
    expect(reply.body.message).toMatch(/topics: is required with target=kafka/);
    reply = await put({
      ...base,
      target: 'dispatcher',
      'dispatcher.url': 'http://127.0.0.1:1',
      topics: 'orders',
      'restore.until.timestamp': '2024-01-01T00:00:00Z',
    });
    expect(reply.status, reply.text).toBe(400);
    expect(badFields(reply)).toEqual(['restore.until.timestamp', 'topics']);
  });

  it('posts every stream before any event, each bundle once and in key order per group, byte for byte, in one task', async () => {
    const { label, backup: b } = await backup();
    // coldstore's own objects sit beside the backup; they are never restored.
    await putObject(
      client,
      b.eventsBucket,
      '~coldstore/azul-index/azul.test.alpha.binary.sourced/0/00000000000000000000-00000000000000000001.json',
      Buffer.from('{}'),
    );
    await putObject(client, b.streamsBucket, '~coldstore/notes.json', Buffer.from('{}'));
    const { name, status, progress } = await restore(label, { 'tasks.max': '4', 'dispatcher.max.in.flight': '3' });

    expect(status.tasks).toHaveLength(1);
    const { lastStream, firstEvent } = uploadOrder(double);
    expect(lastStream).toBeGreaterThanOrEqual(0);
    expect(lastStream).toBeLessThan(firstEvent);
    // The double holds exactly the original blobs and events.
    expect(new Map([...double.streams].map(([k, v]) => [k, hex(v)]))).toEqual(new Map([...b.streams].map(([k, v]) => [k, hex(v)])));
    expect(double.streamPosts).toHaveLength(b.streams.size);
    expect(sortedHex(double.events.map((e) => e.bytes))).toEqual(sortedHex(b.bundles.flatMap((x) => x.events)));
    const posted = postedBundles(double, b);
    expect([...posted].sort()).toEqual(b.bundles.map((x) => x.key).sort());
    expect(perGroup(posted)).toEqual(expectedPerGroup(b));
    // Every request carried what a restore must: expected-sha256 on streams, pause_plugins on events.
    for (const r of double.requests.filter((q) => q.method === 'POST'))
      expect(r.path).toMatch(r.path.startsWith('/api/v2/event') ? /pause_plugins=true/ : /expected-sha256=[0-9a-f]{64}/);

    const events = b.bundles.reduce((n, x) => n + x.events.length, 0);
    expect(progress).toMatchObject({
      phase: 'done',
      streams: { listed: 6, posted: 6, bad: 0 },
      events: { bundles: 10, events_ok: events, events_failed: 0, bundles_filtered: 0, events_filtered: 0, bad: 0 },
      bad_objects: 0,
    });
    expect(progress!.groups['system/delete/default']).toBe(b.bundles.filter((x) => x.group === 'system/delete/default').at(-1)!.key);
    expect(Object.keys(progress!.groups).sort()).toEqual([
      'alpha/binary/extracted',
      'alpha/binary/sourced',
      'beta/binary/augmented',
      'system/delete/default',
      'system/insert/default',
    ]);

    const metrics = (await test.call('GET', '/metrics')).text;
    const eventsOf = (source: string) => b.bundles.filter((x) => x.source === source).reduce((n, x) => n + x.events.length, 0);
    expect(metricSample(metrics, 'coldstore_restore_dispatcher_events_total', { connector: name, source: 'alpha', result: 'ok' })).toBe(eventsOf('alpha'));
    expect(metricSample(metrics, 'coldstore_restore_dispatcher_events_total', { connector: name, source: 'system', result: 'ok' })).toBe(eventsOf('system'));
    expect(metricSample(metrics, 'coldstore_restore_dispatcher_streams_total', { connector: name, source: 'beta', result: 'ok' })).toBe(2);
  });

  it('counts a bundle whose events are all filtered (425) as done, and counts and lists partial failures', async () => {
    const { label, backup: b } = await backup();
    const refused = vector('binary', 'enriched');
    double.judge = (model, bytes) => (model === 'insert' ? 'filtered' : bytes.equals(refused.bytes) ? 'fail' : 'ok');
    const { name, progress } = await restore(label);
    const all = b.bundles.flatMap((x) => x.events);
    expect(double.bulks).toHaveLength(10);
    expect(progress!.events).toEqual({ bundles: 10, events_ok: all.length - 2, events_failed: 1, bundles_filtered: 1, events_filtered: 1, bad: 0 });
    expect(progress!.failures).toEqual([
      { key: b.bundles.find((x) => x.events.some((e) => e.equals(refused.bytes)))!.key, error: 'refused by the test judge', event: refused.kafkaKey },
    ]);
    expect(sortedHex(double.events.map((e) => e.bytes))).toEqual(
      sortedHex(all.filter((e) => !e.equals(refused.bytes) && !e.equals(vector('insert', 'example1').bytes))),
    );
    const metrics = (await test.call('GET', '/metrics')).text;
    expect(metricSample(metrics, 'coldstore_restore_dispatcher_events_total', { connector: name, source: 'system', result: 'filtered' })).toBe(1);
    expect(metricSample(metrics, 'coldstore_restore_dispatcher_events_total', { connector: name, source: 'alpha', result: 'fail' })).toBe(1);
  });

  it('retries transient failures (503, dropped connections) with backoff and completes, each bundle still once', async () => {
    const { label, backup: b } = await backup();
    double.fail({ method: 'POST', path: /^\/api\/v2\/event/, status: 503, times: 3 });
    double.fail({ method: 'POST', path: /^\/api\/v2\/event/, reset: true, times: 1 });
    double.fail({ method: 'POST', path: /^\/api\/v3\/stream/, status: 503, times: 2 });
    const { name, progress } = await restore(label);
    expect(double.requests.filter((r) => r.status === 503)).toHaveLength(5);
    const posted = postedBundles(double, b);
    expect([...posted].sort()).toEqual(b.bundles.map((x) => x.key).sort());
    expect(perGroup(posted)).toEqual(expectedPerGroup(b));
    expect(progress!.streams).toEqual({ listed: 6, posted: 6, bad: 0 });
    const metrics = (await test.call('GET', '/metrics')).text;
    expect(metricSample(metrics, 'coldstore_restore_dispatcher_retries_total', { connector: name })).toBe(6);
  });

  it('fails the task naming the bundle once a dispatcher that stays down outlasts dispatcher.retry.max.ms', async () => {
    const { label, backup: b } = await backup();
    double.fail({ method: 'POST', path: /^\/api\/v2\/event\?model=insert/, status: 503 });
    const { status } = await restore(label, { 'dispatcher.retry.max.ms': '1500' }, 'FAILED');
    const trace = status.tasks[0]!.trace!;
    expect(trace).toContain('DISPATCHER_FAILED');
    expect(trace).toContain(b.bundles.find((x) => x.model === 'insert')!.key);
    expect(trace).toContain('dispatcher.retry.max.ms=1500');
    expect(double.requests.filter((r) => r.path.includes('model=insert')).length).toBeGreaterThanOrEqual(2);
  });

  it('restore.type=streams posts only the streams, restore.type=events only the events', async () => {
    const { label, backup: b } = await backup();
    const streamsOnly = await restore(label, { 'restore.type': 'streams' });
    expect(double.streamPosts).toHaveLength(b.streams.size);
    expect(double.bulks).toHaveLength(0);
    expect(streamsOnly.progress!.events.bundles).toBe(0);
    double.streamPosts.length = 0;
    const eventsOnly = await restore(label, { 'restore.type': 'events', 'restore.sources': 'beta,system' });
    expect(double.streamPosts).toHaveLength(0);
    expect(postedBundles(double, b).sort()).toEqual(
      b.bundles
        .filter((x) => x.source !== 'alpha')
        .map((x) => x.key)
        .sort(),
    );
    expect(eventsOnly.progress!.streams.listed).toBe(0);
  });

  it('holds at most dispatcher.max.in.flight.bytes of stored blobs at once; a larger blob is uploaded alone', async () => {
    // Random bytes do not compress: stored sizes are about the blob sizes.
    const small = Array.from({ length: 4 }, () => randomBytes(30_000));
    const { label, backup: b } = await backup(standardPlans(), { 'alpha/content': [...small, randomBytes(120_000)] });
    double.fail({ method: 'POST', path: /^\/api\/v3\/stream\//, delayMs: 150 });
    await restore(label, { 'restore.type': 'streams', 'dispatcher.max.in.flight': '8', 'dispatcher.max.in.flight.bytes': '70000' });
    expect(double.streamPosts).toHaveLength(b.streams.size);
    // Two small blobs fit in 70,000 bytes, three do not; the large one had nothing beside it.
    expect(double.peakUnansweredBodyBytes).toBe(120_000);
  });

  it('on.bad.object=skip reports corrupt, foreign and mismatching objects with their keys and restores the rest; =fail names the first', async () => {
    const { label, backup: b } = await backup();
    const corrupt = b.bundles.find((x) => x.group === 'alpha/binary/sourced')!;
    await putObject(client, b.eventsBucket, corrupt.key, Buffer.from('not gzip at all'), {
      'coldstore-format': 'azul-v6',
      'coldstore-body-sha256': sha256(corrupt.bulk),
      'coldstore-record-count': String(corrupt.events.length),
    });
    const foreign = 'beta/binary/augmented/notes.txt';
    await putObject(client, b.eventsBucket, foreign, Buffer.from('hello'));
    // A blob stored under a key whose sha256 is not its own.
    const wrongKey = `alpha/content/${sha256(Buffer.from('something else'))}`;
    await putObject(client, b.streamsBucket, wrongKey, gzipSync(Buffer.from('these bytes')), {
      'coldstore-format': 'azul-stream-v1',
      'coldstore-body-sha256': sha256(Buffer.from('these bytes')),
    });

    const failed = await restore(label, { 'on.bad.object': 'fail' }, 'FAILED');
    expect(failed.status.tasks[0]!.trace).toContain('BACKUP_OBJECT_INVALID');
    expect(failed.status.tasks[0]!.trace).toContain(`checksum: ${wrongKey}`);
    expect(double.bulks).toHaveLength(0);

    double.streamPosts.length = 0;
    double.streams.clear();
    const { progress } = await restore(label, { 'on.bad.object': 'skip' });
    expect(progress!.skipped!.map((s) => [s.kind, s.key]).sort()).toEqual([
      ['checksum', wrongKey],
      ['corrupt-gzip', corrupt.key],
      ['foreign', foreign],
    ]);
    expect(progress!.streams).toEqual({ listed: 7, posted: 6, bad: 1 });
    expect(progress!.events.bad).toBe(2);
    expect(progress!.bad_objects).toBe(3);
    expect(double.requests.some((r) => r.path.includes(wrongKey.split('/')[2]!))).toBe(false);
    expect(sortedHex(double.events.map((e) => e.bytes))).toEqual(sortedHex(b.bundles.filter((x) => x !== corrupt).flatMap((x) => x.events)));
  });

  it('a stream the dispatcher refuses (400) is reported as bad once, not retried', async () => {
    const { label, backup: b } = await backup();
    const refused = [...b.streams.keys()].find((k) => k.startsWith('beta/'))!;
    const sha = refused.split('/')[2]!;
    double.fail({ method: 'POST', path: new RegExp(`expected-sha256=${sha}`), status: 400 });
    const { progress } = await restore(label, { 'on.bad.object': 'skip' });
    expect(double.requests.filter((r) => r.path.includes(sha))).toHaveLength(1);
    expect(progress!.skipped).toEqual([{ kind: 'rejected', key: refused, message: expect.stringMatching(/HTTP 400/) }]);
    expect(progress!.streams).toEqual({ listed: 6, posted: 5, bad: 1 });
    expect(progress!.events.events_ok).toBe(b.bundles.reduce((n, x) => n + x.events.length, 0));
  });

  it('restores a backup that has no streams bucket, and fails the connector (BACKUP_NOT_FOUND) for a source the backup does not hold', async () => {
    const { label, backup: b } = await backup(
      standardPlans().filter((p) => p.source === 'system'),
      {},
    );
    const { progress } = await restore(label);
    expect(progress!.streams.listed).toBe(0);
    expect(progress!.events.bundles).toBe(3);
    expect(postedBundles(double, b).sort()).toEqual(b.bundles.map((x) => x.key).sort());
    const missing = await restore(label, { 'restore.sources': 'system,gamma' }, 'FAILED');
    expect(missing.status.connector.state).toBe('FAILED');
    expect(missing.status.connector.trace).toContain('BACKUP_NOT_FOUND');
    expect(missing.status.connector.trace).toMatch(/holds no source gamma; it holds system/);
  });

  it('resumes after being stopped mid-streams and mid-events without re-posting what was recorded done', async () => {
    // Events of their own in every bundle, so each post can be told apart.
    const groups = ['alpha/binary/sourced', 'beta/binary/extracted', 'beta/binary/augmented'];
    const plans: BundlePlan[] = [];
    for (const [g, group] of groups.entries()) {
      const source = group.split('/')[0]!;
      for (let i = 0; i < 24; i++) {
        const day = i < 12 ? '2024-05-01' : '2024-05-02';
        plans.push(plan(group, `${day}T${String(i % 12).padStart(2, '0')}:00:00Z`, [made(source, `g${g}-b${i}-e0`, i), made(source, `g${g}-b${i}-e1`, i)]));
      }
    }
    const blobs = {
      'alpha/content': Array.from({ length: 16 }, (_, i) => Buffer.from(`alpha blob ${i}`)),
      'beta/content': Array.from({ length: 8 }, (_, i) => Buffer.from(`beta blob ${i}`)),
    };
    const { label, backup: b } = await backup(plans, blobs);
    const name = uniqueName('restore-dispatcher-resume');
    const inFlight = 3;
    const cfg = config(label, { 'dispatcher.max.in.flight': String(inFlight) });
    const saved = async () =>
      (await app.worker.store.read(`task-state/${name}/0`))['dispatcher-restore'] as { streams: Record<string, string>; groups: Record<string, string> };

    // 1: stopped during the streams.
    double.fail({ method: 'POST', delayMs: 40 });
    await app.herder.putConfig(name, cfg, true);
    await waitFor('some streams posted', () => double.streamPosts.length >= 6, { intervalMs: 20 });
    await app.herder.delete(name);
    const afterStreams = await saved();
    const streamsDone = [...b.streams.keys()].filter((k) => k <= (afterStreams.streams[k.split('/')[0]!] ?? ''));
    expect(streamsDone.length).toBeGreaterThan(0);
    expect(streamsDone.length).toBeLessThan(b.streams.size);
    expect(double.bulks).toHaveLength(0);

    // 2: re-created with the same name (its task state is kept), stopped during the events.
    await app.herder.putConfig(name, cfg, true);
    await waitFor('some bundles posted', () => double.bulks.length >= 12, { intervalMs: 20 });
    await app.herder.delete(name);
    const afterEvents = await saved();
    const bundlesDone = b.bundles.filter((x) => afterEvents.groups[x.group] !== undefined && x.key <= afterEvents.groups[x.group]!).map((x) => x.key);
    expect(bundlesDone.length).toBeGreaterThan(0);
    expect(bundlesDone.length).toBeLessThan(b.bundles.length);

    // 3: to the end.
    double.clearFailures();
    await app.herder.putConfig(name, cfg, true);
    const status = await settle(name, 'FINISHED');
    const progress = status.tasks[0]!.progress as Progress;

    const streamCounts = new Map<string, number>();
    for (const p of double.streamPosts) streamCounts.set(p.key, (streamCounts.get(p.key) ?? 0) + 1);
    expect([...streamCounts.keys()].sort()).toEqual([...b.streams.keys()].sort());
    for (const key of streamsDone) expect(streamCounts.get(key), key).toBe(1);
    const streamRepeats = [...streamCounts.values()].reduce((n, c) => n + c - 1, 0);
    expect(streamRepeats).toBeLessThanOrEqual(inFlight);

    const posted = postedBundles(double, b);
    const counts = new Map<string, number>();
    for (const key of posted) counts.set(key, (counts.get(key) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(b.bundles.map((x) => x.key).sort());
    for (const key of bundlesDone) expect(counts.get(key), key).toBe(1);
    const repeats = [...counts.values()].reduce((n, c) => n + c - 1, 0);
    expect(repeats).toBeLessThanOrEqual(inFlight);
    // Without the repeats, each group went in key order across the three runs.
    expect(perGroup([...new Set(posted)])).toEqual(expectedPerGroup(b));
    // The counts are the whole job's, over the three runs.
    expect(progress.streams).toEqual({ listed: 24, posted: 24, bad: 0 });
    expect(progress.events.bundles).toBe(72);
    expect(progress.events.events_ok).toBe(b.bundles.reduce((n, x) => n + x.events.length, 0));
    console.info(`restore-dispatcher resume: ${streamRepeats} streams and ${repeats} bundles posted again after the stops`);
  });
});
