import { join } from 'node:path';
import { Script } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATUS_PAGE_CSP } from '../../app/ui/routes.js';
import type { UiHistory } from '../../app/ui/sampler.js';
import { createTopic, produceLinesAsync } from '../helpers/kafka.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const OPS = { authorization: `Basic ${Buffer.from('ops:s3cret').toString('base64')}` };

describe('status page /ui: served assets (inject)', () => {
  let open: TestApp;
  let basic: TestApp;

  beforeAll(async () => {
    open = await createTestApp({}, { start: false });
    basic = await createTestApp({ 'rest.auth.type': 'basic', 'rest.auth.users': 'ops:s3cret' }, { start: false });
  });

  afterAll(async () => {
    await open?.app.stop();
    await basic?.app.stop();
  });

  it('serves /ui, /ui/app.js and /ui/style.css with their content types, no-store and a strict CSP', async () => {
    for (const [path, type] of [
      ['/ui', 'text/html'],
      ['/ui/app.js', 'text/javascript'],
      ['/ui/style.css', 'text/css'],
    ] as const) {
      const reply = await open.call('GET', path);
      expect(reply.status, path).toBe(200);
      expect(reply.headers['content-type'], path).toBe(`${type}; charset=utf-8`);
      expect(reply.headers['cache-control'], path).toBe('no-store');
      expect(reply.headers['content-security-policy'], path).toBe(STATUS_PAGE_CSP);
      expect(reply.headers['x-content-type-options'], path).toBe('nosniff');
      expect(reply.text.length, path).toBeGreaterThan(100);
    }
    expect(STATUS_PAGE_CSP).toMatch(/^default-src 'self'/);
    expect(STATUS_PAGE_CSP).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
  });

  it('keeps the HTML free of inline script and style, and the script parses', async () => {
    const html = (await open.call('GET', '/ui')).text;
    expect(html).toContain('<script src="ui/app.js" defer></script>');
    expect(html).toContain('<link rel="stylesheet" href="ui/style.css">');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=|<style|\son[a-z]+=/i);
    const script = (await open.call('GET', '/ui/app.js')).text;
    expect(() => new Script(script, { filename: 'app.js' })).not.toThrow();
    expect(script).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });

  it('redirects /ui/ to /ui, whose relative asset URLs need the path without a slash', async () => {
    const reply = await open.call('GET', '/ui/');
    expect(reply.status).toBe(302);
    expect(reply.headers['location']).toBe('../ui');
  });

  it('serves the sampler history as JSON: by default a point every 15 s, 60 kept (15 minutes)', async () => {
    const reply = await open.call('GET', '/ui/history');
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^application\/json/);
    expect(reply.headers['cache-control']).toBe('no-store');
    expect(reply.body).toEqual({ sampleIntervalMs: 15_000, points: 60, connectors: {} });
  });

  it('sits behind the same auth hook as the REST API: basic auth prompts the browser', async () => {
    for (const path of ['/ui', '/ui/app.js', '/ui/style.css', '/ui/history']) {
      const denied = await basic.call('GET', path);
      expect(denied.status, path).toBe(401);
      expect(denied.headers['www-authenticate'], path).toBe('Basic realm="coldstore"');
      const allowed = await basic.call('GET', path, undefined, OPS);
      expect(allowed.status, path).toBe(200);
    }
  });
});

describe('status page /ui: the sampler behind its charts (GET /ui/history, real Kafka)', () => {
  const POINTS = 5;
  const SAMPLE_MS = 200;
  let t: TestApp;
  const topic = uniqueName('ui-hist');
  const backup = uniqueName('ui-hist-backup');
  const plain = uniqueName('ui-hist-file');

  const history = async (): Promise<UiHistory> => {
    const reply = await t.call('GET', '/ui/history', undefined, OPS);
    expect(reply.status, reply.text).toBe(200);
    expect(reply.headers['cache-control']).toBe('no-store');
    return reply.body as UiHistory;
  };

  beforeAll(async () => {
    await createTopic(topic, 1);
    t = await createTestApp(
      { 'rest.auth.type': 'basic', 'rest.auth.users': 'ops:s3cret' },
      { app: { uiSampler: { sampleIntervalMs: SAMPLE_MS, observeIntervalMs: 50, points: POINTS } } },
    );
    const storage = { 'storage.type': 'local', 'local.root': tmpDir('ui-hist-objects'), 'backup.label': backup.toLowerCase().replace(/[^a-z0-9-]/g, '') };
    await t.app.herder.putConfig(
      backup,
      { 'connector.class': 'BackupSink', topics: topic, 'bundle.max.records': '10', 'bundle.max.age.ms': '200', ...storage },
      true,
    );
    await t.app.herder.putConfig(plain, { 'connector.class': 'FileStreamSink', topics: topic, file: join(tmpDir('ui-hist-file'), 'out.jsonl') }, true);
  });

  afterAll(async () => {
    await t?.app.stop();
  });

  it('keeps a bounded series per connector: records/s for every one, lag and freshness only for a BackupSink', async () => {
    await produceLinesAsync(
      topic,
      0,
      Array.from({ length: 200 }, (_, i) => `k${i}:v${i}`),
    );
    const full = await waitFor('a full series with records made durable', async () => {
      const h = await history();
      const points = h.connectors[backup]?.points ?? [];
      return points.length === POINTS && points.some((p) => (p.recordsPerSecond ?? 0) > 0) ? h : undefined;
    });
    expect(full).toMatchObject({ sampleIntervalMs: SAMPLE_MS, points: POINTS });
    expect(full.connectors[backup]!.kind).toBe('backup');
    // Once its task reports partitions (the first points may come before its assignment).
    expect(full.connectors[backup]!.points.at(-1)).toMatchObject({ lag: expect.any(Number), undurableAgeMs: expect.any(Number) });
    expect(full.connectors[backup]!.undurable).toMatchObject({ ageMs: expect.any(Number), atLeast: expect.any(Boolean) });
    expect(full.connectors[plain]!.kind).toBe('other');
    expect(full.connectors[plain]!.points.every((p) => p.lag === null && p.undurableAgeMs === null)).toBe(true);
    expect(full.connectors[plain]!.undurable).toBeUndefined();

    // More samples than it keeps: the series moves on at the same length.
    const newest = full.connectors[backup]!.points.at(-1)!.at;
    const later = await waitFor('the series to move past its length', async () => {
      const h = await history();
      const points = h.connectors[backup]!.points;
      return points[0]!.at > newest ? points : undefined;
    });
    expect(later).toHaveLength(POINTS);
    expect(later.map((p) => p.at)).toEqual([...later.map((p) => p.at)].sort((a, b) => a - b));
  });

  it('forgets a deleted connector', async () => {
    expect(Object.keys((await history()).connectors)).toContain(plain);
    await t.app.herder.delete(plain);
    await waitFor('the deleted connector gone from the history', async () => !Object.keys((await history()).connectors).includes(plain));
    expect(Object.keys((await history()).connectors)).toContain(backup);
  });
});
