import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { inflateSync } from 'node:zlib';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../app/app.js';
import { STATUS_PAGE_CSP } from '../../app/ui/routes.js';
import { createTopic, produceLinesAsync, produceSteadily } from '../helpers/kafka.js';
import { newScript, scriptedSink } from '../helpers/scripted-sink.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const CHROMIUM = '/usr/bin/chromium';
const VIEWPORT = { width: 1280, height: 900 };
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

interface DecodedPng {
  width: number;
  height: number;
  /** Every pixel as 0xRRGGBB (alpha dropped: screenshots are opaque). */
  colours: Uint32Array;
}

function paeth(left: number, up: number, upLeft: number): number {
  const p = left + up - upLeft;
  const pa = Math.abs(p - left);
  const pb = Math.abs(p - up);
  const pc = Math.abs(p - upLeft);
  return pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
}

/**
 * Just enough of a PNG decoder for Chromium's screenshots (8-bit RGB or RGBA, not
 * interlaced): signature, IHDR, the inflated IDAT data with each row's filter undone.
 */
function decodePng(png: Buffer): DecodedPng {
  expect(png.subarray(0, 8).equals(PNG_SIGNATURE), 'PNG signature').toBe(true);
  expect(png.toString('latin1', 12, 16), 'first chunk').toBe('IHDR');
  let width = 0;
  let height = 0;
  let bytesPerPixel = 0;
  const data: Buffer[] = [];
  for (let at = 8; at < png.length;) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const body = png.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const [bitDepth, colourType, , , interlace] = [body[8], body[9], body[10], body[11], body[12]];
      expect({ bitDepth, interlace }).toEqual({ bitDepth: 8, interlace: 0 });
      expect([2, 6]).toContain(colourType);
      bytesPerPixel = colourType === 6 ? 4 : 3;
    } else if (type === 'IDAT') data.push(body);
    else if (type === 'IEND') break;
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * bytesPerPixel;
  expect(raw.length).toBe(height * (stride + 1));
  const pixels = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const row = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const left = x >= bytesPerPixel ? pixels[y * stride + x - bytesPerPixel]! : 0;
      const up = y > 0 ? pixels[(y - 1) * stride + x]! : 0;
      const upLeft = y > 0 && x >= bytesPerPixel ? pixels[(y - 1) * stride + x - bytesPerPixel]! : 0;
      const predictor = [0, left, up, (left + up) >> 1, paeth(left, up, upLeft)][filter];
      if (predictor === undefined) throw new Error(`row ${y} has unknown PNG filter ${filter}`);
      pixels[y * stride + x] = (row[x]! + predictor) & 0xff;
    }
  }
  const colours = new Uint32Array(width * height);
  for (let i = 0; i < colours.length; i++) {
    const p = i * bytesPerPixel;
    colours[i] = (pixels[p]! << 16) | (pixels[p + 1]! << 8) | pixels[p + 2]!;
  }
  return { width, height, colours };
}

/** How many distinct colours, and the share of pixels that differ from the most common one (the background). */
function colourStats(image: DecodedPng): { distinct: number; nonBackground: number } {
  const counts = new Map<number, number>();
  for (const c of image.colours) counts.set(c, (counts.get(c) ?? 0) + 1);
  const background = Math.max(...counts.values());
  return { distinct: counts.size, nonBackground: 1 - background / image.colours.length };
}

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

  it('sits behind the same auth hook as the REST API: basic auth prompts the browser', async () => {
    for (const path of ['/ui', '/ui/app.js', '/ui/style.css']) {
      const denied = await basic.call('GET', path);
      expect(denied.status, path).toBe(401);
      expect(denied.headers['www-authenticate'], path).toBe('Basic realm="coldstore"');
      const allowed = await basic.call('GET', path, undefined, { authorization: `Basic ${Buffer.from('ops:s3cret').toString('base64')}` });
      expect(allowed.status, path).toBe(200);
    }
  });
});

describe('status page /ui in headless Chromium (real Kafka, local store)', () => {
  let app: App;
  let call: TestApp['call'];
  let browser: Browser;
  let page: Page;
  let url: string;
  const pageErrors: string[] = [];
  const dialogs: string[] = [];
  const cspViolations: string[] = [];
  const topic = uniqueName('ui-src');
  const restoredTopic = `${topic}-restored`;
  const label = uniqueName('ui')
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '');
  const root = tmpDir('ui-objects');
  const backupName = uniqueName('ui-backup');
  const restoreName = uniqueName('ui-restore');
  /** A sink that fails on its first batch; its name is markup, which the page must show as text. */
  const failingName = uniqueName('ui-failing-<img src=x onerror=alert(1)>');
  const partitions = 2;
  /** Records per partition backed up before the restore starts, and restored. */
  const backedUpFirst = 600;
  let producing: Promise<void> = Promise.resolve();

  const connector = (name: string): Locator => page.getByTestId(`connector-${name}`);

  beforeAll(async () => {
    await createTopic(topic, partitions);
    await Promise.all(
      Array.from({ length: partitions }, (_, p) =>
        produceLinesAsync(
          topic,
          p,
          Array.from({ length: backedUpFirst }, (_, i) => `k-${p}-${i}:v-${p}-${i}`),
        ),
      ),
    );
    // Listening on a real port, as `coldstore worker` does, so Chromium can load the page.
    ({ app, call } = await createTestApp({ 'rest.host': '127.0.0.1', 'rest.port': 0 }, { start: false, plugins: [scriptedSink] }));
    await app.server.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.server.address();
    if (!address || typeof address !== 'object') throw new Error('the worker is not listening on a TCP port');
    app.worker.workerId = `127.0.0.1:${address.port}`;
    url = `http://127.0.0.1:${address.port}/ui`;
    await app.start();

    const storage = { 'storage.type': 'local', 'local.root': root, 'backup.label': label };
    await app.herder.putConfig(
      backupName,
      { 'connector.class': 'BackupSink', topics: topic, 'bundle.max.records': '20', 'bundle.max.age.ms': '200', 'gzip.level': '1', ...storage },
      true,
    );
    await waitFor(
      'the first records backed up',
      () => {
        const committed = app.herder.committedOffsets().filter((o) => o.topic === topic);
        return committed.length === partitions && committed.every((o) => o.offset >= BigInt(backedUpFirst));
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    newScript(failingName, { fatalOnCall: 1 });
    await app.herder.putConfig(failingName, { 'connector.class': 'test.ScriptedSink', topics: topic, script: failingName }, true);
    // The topic keeps being written while the page is looked at, so the backup has something to lag behind.
    producing = produceSteadily(topic, partitions, backedUpFirst, backedUpFirst + 2_000, 10, 150);
    await app.herder.putConfig(
      restoreName,
      {
        'connector.class': 'RestoreSource',
        topics: topic,
        'topic.rename': `${topic}:${restoredTopic}`,
        // A few records per transaction: slow on purpose, so the page sees the restore running.
        'poll.max.records': '4',
        'transaction.boundary': 'poll',
        // Only what was backed up before: the backup goes on growing, and the restore must end.
        'restore.until.offsets': Array.from({ length: partitions }, (_, p) => `${topic}:${p}:${backedUpFirst - 1}`).join(','),
        ...storage,
      },
      true,
    );

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: VIEWPORT });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) cspViolations.push(message.text());
    });
    await page.goto(url);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await producing.catch(() => undefined);
  });

  it('lists both connectors with their type, class and states, and the running restore with a progress bar', async () => {
    await expect.poll(() => connector(backupName).count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => connector(restoreName).count(), { timeout: 10_000 }).toBe(1);
    expect(await page.getByTestId('worker-version').textContent()).toMatch(/^coldstore \d+\.\d+\.\d+/);
    expect(await page.getByTestId('last-updated').getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await page.getByTestId('error-banner').isHidden()).toBe(true);

    const backup = connector(backupName);
    expect(await backup.getByTestId('connector-type').textContent()).toBe('sink');
    expect(await backup.getByTestId('connector-class').textContent()).toBe('BackupSink');
    expect(await backup.getByTestId('connector-state').textContent()).toBe('RUNNING');
    expect(await backup.getByTestId('task-state').allTextContents()).toEqual(['RUNNING']);
    expect(await backup.getByTestId('task-state').getAttribute('class')).toContain('state-running');

    const restore = connector(restoreName);
    expect(await restore.getByTestId('connector-type').textContent()).toBe('source');
    expect(await restore.getByTestId('connector-class').textContent()).toBe('RestoreSource');
    expect(await restore.getByTestId('connector-state').textContent()).toBe('RUNNING');
    // The page must have seen the restore while it runs, with some records restored.
    await expect
      .poll(async () => Number(/([\d,.]+) records/.exec((await restore.getByTestId('restore-counts').textContent()) ?? '')?.[1]?.replace(/\D/g, '') ?? 0), {
        timeout: 15_000,
      })
      .toBeGreaterThan(0);
    expect(await restore.getByTestId('task-state').textContent()).toBe('RUNNING');
    const bar = restore.getByTestId('restore-progress');
    expect(await bar.count()).toBe(1);
    expect(await bar.evaluate((node) => node.tagName)).toBe('PROGRESS');
    expect(await bar.getAttribute('aria-valuetext')).toMatch(/phase records · [\d,.]+ records · [\d,.]+ (of [\d,.]+ )?objects/);
    expect(await bar.getAttribute('aria-labelledby')).toBeTruthy();
    const status = (await call('GET', `/connectors/${restoreName}/status`)).body;
    const planned = status.tasks[0]?.progress?.planned;
    if (planned) {
      // With a plan the bar measures bytes read against bytes planned.
      expect(Number(await bar.getAttribute('value'))).toBeGreaterThan(0);
    } else {
      // No plan in the task's progress: an indeterminate bar (no value) beside the counts.
      expect(await bar.getAttribute('value')).toBeNull();
    }
    expect(await restore.getByTestId('bad-objects').count()).toBe(0);
  });

  it('shows the backup lag per partition when the sink reports progress.partitions', async () => {
    const status = (await call('GET', `/connectors/${backupName}/status`)).body;
    const reported = status.tasks[0]?.progress?.partitions;
    const backup = connector(backupName);
    if (Array.isArray(reported)) {
      await expect.poll(() => backup.getByTestId('lag-table').count(), { timeout: 5_000 }).toBe(1);
      const table = backup.getByTestId('lag-table');
      for (let p = 0; p < partitions; p++) {
        const row = table.getByTestId(`lag-${topic}/${p}`);
        expect(await row.count(), `${topic}/${p}`).toBe(1);
        expect(await row.locator('td').count()).toBe(3);
      }
      expect(await table.locator('thead th').allTextContents()).toEqual(['Topic/partition', 'Committed', 'End', 'Lag']);
    } else {
      // TODO(backup lag): BackupSink tasks do not report `progress.partitions`
      // ([{topic, partition, committed_offset, end_offset, lag}]) yet; once they do, the branch
      // above checks the lag table. Until then the page must render the sink without one.
      expect(await backup.getByTestId('lag-table').count()).toBe(0);
      expect(await backup.getByTestId('task-state').textContent()).toBe('RUNNING');
    }
  });

  it('shows the backup catalogue, or says it is unavailable and goes on', async () => {
    const catalogue = await call('GET', '/backups');
    if (catalogue.status === 200 && Array.isArray(catalogue.body)) {
      // A backup by id of the running BackupSink gives the catalogue a row to show.
      const taken = await call('POST', '/backups/1');
      expect(taken.status, taken.text).toBe(202);
      const row = page.getByTestId('backup-1');
      await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(1);
      expect(await page.getByTestId('backups-unavailable').isHidden()).toBe(true);
      const listed = await waitFor('backup 1 listed', async () => {
        const answer = (await call('GET', '/backups')).body as { backupId: number; status: string; partitions: unknown[] }[];
        return answer.find((b) => b.backupId === 1);
      });
      await expect
        .poll(() => row.getByTestId('backup-partitions').textContent(), { timeout: 10_000 })
        .toMatch(new RegExp(`^\\d+/${listed.partitions.length}$`));
      expect(['COMPLETED', 'IN_PROGRESS', 'FAILED']).toContain(await row.getByTestId('backup-status').textContent());
      expect(await row.getByTestId('backup-created').getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
    } else {
      // TODO(backup catalogue): GET /backups is not served yet; this branch checks the page copes.
      await expect.poll(() => page.getByTestId('backups-unavailable').isVisible(), { timeout: 5_000 }).toBe(true);
      expect(await page.getByTestId('backups-unavailable').textContent()).toMatch(/backup catalogue unavailable/i);
      expect(await page.getByTestId('backups-table').isHidden()).toBe(true);
      expect(await page.getByTestId('error-banner').isHidden()).toBe(true);
    }
  });

  it('shows a failed task in red with its trace in a collapsed <details> that stays open across refreshes', async () => {
    const failing = connector(failingName);
    await expect.poll(() => failing.getByTestId('task-state').textContent(), { timeout: 30_000 }).toBe('FAILED');
    expect(await failing.locator('h3').textContent()).toBe(failingName);
    expect(await failing.getByTestId('task-state').getAttribute('class')).toContain('state-failed');
    const trace = failing.getByTestId('task-trace');
    expect(await trace.evaluate((node) => node.tagName)).toBe('DETAILS');
    expect(await trace.evaluate((node) => (node as unknown as { open: boolean }).open)).toBe(false);
    await trace.locator('summary').click();
    expect(await trace.locator('pre').textContent()).toMatch(/scripted fatal failure/);
    // The next poll rebuilds the list; what the user opened stays open.
    const before = await page.getByTestId('last-updated').getAttribute('datetime');
    await expect.poll(() => page.getByTestId('last-updated').getAttribute('datetime'), { timeout: 10_000 }).not.toBe(before);
    expect(await failing.getByTestId('task-trace').evaluate((node) => (node as unknown as { open: boolean }).open)).toBe(true);
    // The name was shown as text, never parsed as markup.
    expect(await page.locator('main img').count()).toBe(0);
    expect(dialogs).toEqual([]);
  });

  it('shows the finished restore at 100 %', async () => {
    const restore = connector(restoreName);
    await expect.poll(() => restore.getByTestId('task-state').textContent(), { timeout: 90_000, interval: 500 }).toBe('FINISHED');
    expect(await restore.getByTestId('task-state').getAttribute('class')).toContain('state-finished');
    const bar = restore.getByTestId('restore-progress');
    expect(await bar.evaluate((node) => (node as unknown as { value: number; max: number }).value)).toBe(1);
    expect(await bar.getAttribute('aria-valuetext')).toMatch(/^100 % · phase done · [\d,.]+ records/);
    const restored = Number((await restore.getByTestId('restore-counts').textContent())?.match(/([\d,.]+) records/)?.[1]?.replace(/\D/g, ''));
    expect(restored).toBe(backedUpFirst * partitions);
    expect(await restore.getByTestId('restore-partitions').locator('tbody tr').count()).toBe(partitions);
  });

  it('renders a screenshot that is a viewport-sized PNG with content on it', async () => {
    const png = await page.screenshot();
    const path = join(tmpDir('ui-screenshot'), 'status-page.png');
    writeFileSync(path, png);
    console.log(`status page screenshot: ${path}`);

    const image = decodePng(png);
    expect({ width: image.width, height: image.height }).toEqual(VIEWPORT);
    // A blank page, decoded the same way, is one colour: the yardstick for "not blank".
    const blank = await browser.newPage({ viewport: VIEWPORT });
    const blankImage = decodePng(await blank.screenshot());
    await blank.close();
    expect(colourStats(blankImage).distinct).toBe(1);
    const stats = colourStats(image);
    expect(stats.distinct).toBeGreaterThan(20);
    expect(stats.nonBackground).toBeGreaterThan(0.05);
  });

  it('loads without script errors or CSP violations', () => {
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  });

  it('shows an error banner when the worker stops, and keeps the last data on screen', async () => {
    // Only the REST API goes away: stopping the whole app would first stop its connectors,
    // and a poll landing in between would show them half gone as the "last data".
    await app.server.close();
    await expect.poll(() => page.getByTestId('error-banner').isVisible(), { timeout: 10_000 }).toBe(true);
    // A poll in flight while the server closes gets fastify's 503 first; the next one finds nobody listening.
    await expect
      .poll(() => page.getByTestId('error-banner').textContent(), { timeout: 15_000 })
      .toMatch(/^REST API unavailable: the worker cannot be reached .* Showing the data from /);
    expect(await page.getByTestId('error-banner').getAttribute('role')).toBe('alert');
    expect(await connector(backupName).count()).toBe(1);
    expect(await connector(restoreName).getByTestId('task-state').textContent()).toBe('FINISHED');
  });
});
