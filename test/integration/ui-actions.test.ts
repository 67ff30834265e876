import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UiHistory } from '../../app/ui/sampler.js';
import { createTopic, produceLines, produceLinesAsync, produceSteadily } from '../helpers/kafka.js';
import { decodePng } from '../helpers/png.js';
import type { TestApp } from '../helpers/test-app.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { launchChromium, layoutProblems, listeningTestApp } from '../helpers/ui-browser.js';
import { waitFor } from '../helpers/wait.js';

const USER = { username: 'ops', password: 's3cret' };
const AUTH = { authorization: `Basic ${Buffer.from(`${USER.username}:${USER.password}`).toString('base64')}` };
const POINTS = 40;
/** A password-type setting of the slow sink: the page must never get it. */
const SECRET = 'ui-secret-do-not-show-7f3a';

describe('status page /ui: actions, charts and layout in headless Chromium (basic auth, real Kafka, local store)', () => {
  let t: TestApp & { url: string };
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const cspViolations: string[] = [];
  const leaks: string[] = [];
  const topic = uniqueName('ui-act');
  const slowTopic = uniqueName('ui-act-slow');
  const conflictTopic = uniqueName('ui-act-conflict');
  const backupName = uniqueName('ui-act-backup');
  /** A BackupSink whose bundles stay open for 10 minutes: its records wait, not durable. */
  const slowName = uniqueName('ui-act-slow');
  /** A BackupSink that fails on a foreign object at its first bundle's key, until that object is removed. */
  const conflictName = uniqueName('ui-act-conflict');
  const root = tmpDir('ui-act-objects');
  const labelOf = (name: string) => name.toLowerCase().replace(/[^a-z0-9-]/g, '');
  const conflictBucket = `coldstore-${labelOf(conflictName)}-events`;
  const conflictKey = `${conflictTopic}/0/00000000000000000000-00000000000000000004.avro.gz`;
  const conflictFiles = [join(root, conflictBucket, conflictKey), join(root, '.coldstore-meta', conflictBucket, `${conflictKey}.json`)];
  let producing: Promise<void> = Promise.resolve();

  const call = (method: string, path: string) => t.call(method, path, undefined, AUTH);
  const status = async (name: string) => (await call('GET', `/connectors/${name}/status`)).body;
  const history = async () => (await call('GET', '/ui/history')).body as UiHistory;
  const connector = (name: string): Locator => page.getByTestId(`connector-${name}`);
  const result = () => page.getByTestId('action-result');
  const sink = (name: string, topicName: string, extra: Record<string, string> = {}) =>
    t.app.herder.putConfig(
      name,
      {
        'connector.class': 'BackupSink',
        topics: topicName,
        'storage.type': 'local',
        'local.root': root,
        'backup.label': labelOf(name),
        'gzip.level': '1',
        ...extra,
      },
      true,
    );

  /** Clicks an action's button, answers the page's confirmation dialog, and returns what it asked. */
  async function answerConfirmation(button: Locator, answer: 'confirm-ok' | 'confirm-cancel'): Promise<string | null> {
    await button.click();
    const dialog = page.getByTestId('confirm-dialog');
    await expect.poll(() => dialog.isVisible(), { timeout: 5_000 }).toBe(true);
    const asked = await page.getByTestId('confirm-message').textContent();
    await page.getByTestId(answer).click();
    await expect.poll(() => dialog.isVisible(), { timeout: 5_000 }).toBe(false);
    return asked;
  }

  beforeAll(async () => {
    await Promise.all([createTopic(topic, 2), createTopic(slowTopic, 1), createTopic(conflictTopic, 1)]);
    await Promise.all(
      [0, 1].map((p) =>
        produceLinesAsync(
          topic,
          p,
          Array.from({ length: 300 }, (_, i) => `k-${p}-${i}:v-${p}-${i}`),
        ),
      ),
    );
    produceLines(
      conflictTopic,
      0,
      Array.from({ length: 5 }, (_, i) => `k:${i}`),
    );
    mkdirSync(join(root, conflictBucket, conflictTopic, '0'), { recursive: true });
    writeFileSync(conflictFiles[0]!, 'foreign bytes');
    mkdirSync(join(root, '.coldstore-meta', conflictBucket, conflictTopic, '0'), { recursive: true });
    writeFileSync(conflictFiles[1]!, JSON.stringify({ 'coldstore-body-sha256': 'f00' }));

    t = await listeningTestApp(
      { 'rest.auth.type': 'basic', 'rest.auth.users': `${USER.username}:${USER.password}` },
      // Points every 250 ms instead of 15 s, so the charts fill within the test.
      { app: { uiSampler: { sampleIntervalMs: 250, observeIntervalMs: 100, points: POINTS } } },
    );
    await sink(backupName, topic, { 'bundle.max.records': '20', 'bundle.max.age.ms': '200' });
    await sink(slowName, slowTopic, { 'bundle.max.age.ms': '600000', 's3.access.key.id': 'AKIAUITEST', 's3.secret.access.key': SECRET });
    await waitFor('the first records backed up', async () => {
      const partitions = ((await status(backupName)).tasks[0]?.progress?.partitions ?? []) as { committed_offset: number | null }[];
      return partitions.length === 2 && partitions.every((p) => (p.committed_offset ?? 0) >= 300);
    });
    producing = produceSteadily(topic, 2, 300, 1_500, 10, 200);

    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 }, httpCredentials: USER });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) cspViolations.push(message.text());
    });
    page.on('response', (response) => {
      response.text().then(
        (body) => {
          if (body.includes(SECRET)) leaks.push(response.url());
        },
        () => undefined,
      );
    });
    await page.goto(t.url);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await t?.app.stop();
    await producing.catch(() => undefined);
  });

  it('needs the credentials, and its own requests carry the ones the page was loaded with', async () => {
    const anonymous = await browser.newContext();
    const denied = await anonymous.request.get(t.url);
    expect(denied.status()).toBe(401);
    expect(denied.headers()['www-authenticate']).toBe('Basic realm="coldstore"');
    await anonymous.close();
    await expect.poll(() => connector(backupName).getByTestId('connector-state').textContent(), { timeout: 10_000 }).toBe('RUNNING');
    expect(await page.getByTestId('error-banner').isHidden()).toBe(true);
  });

  it('shows how long the oldest record not yet durable has waited, for each BackupSink', async () => {
    // The sampler must have seen the empty partition before the records come: then their arrival is known.
    await waitFor('the slow sink observed', async () => (await history()).connectors[slowName]?.undurable?.observedAt);
    await waitFor('the slow sink owning its partition', async () => (await status(slowName)).tasks[0]?.progress?.partitions?.[0]?.end_offset === 0);
    const producedAt = Date.now();
    produceLines(
      slowTopic,
      0,
      Array.from({ length: 10 }, (_, i) => `k:${i}`),
    );
    const line = connector(slowName).getByTestId('undurable-age');
    await expect.poll(async () => Number(await line.getAttribute('data-age-ms')), { timeout: 15_000 }).toBeGreaterThanOrEqual(1_000);
    const shownAge = Number(await line.getAttribute('data-age-ms'));
    // Never older than the records themselves, and measured, not guessed ("at least" is for backlogs found at start).
    expect(shownAge).toBeLessThanOrEqual(Date.now() - producedAt);
    expect(await line.textContent()).toMatch(new RegExp(`^Oldest record not yet durable: [\\d.,]+ s waiting \\(${slowTopic}/0\\)\\.$`));
    expect((await history()).connectors[slowName]!.undurable).toMatchObject({ atLeast: false, partition: `${slowTopic}/0` });
  });

  it('pauses only after confirmation, and resumes: the REST status follows', async () => {
    const backup = connector(backupName);
    const asked = await answerConfirmation(backup.getByTestId('action-pause'), 'confirm-cancel');
    expect(asked).toContain(`Pause ${backupName}?`);
    // The dialog's close event, which reports the answer, comes a task after it hides.
    await expect.poll(() => result().getAttribute('data-outcome'), { timeout: 5_000 }).toBe('cancelled');
    expect((await status(backupName)).connector.state).toBe('RUNNING');

    await answerConfirmation(backup.getByTestId('action-pause'), 'confirm-ok');
    await waitFor('PAUSED in the REST status', async () => (await status(backupName)).connector.state === 'PAUSED');
    await expect.poll(() => result().getAttribute('data-outcome'), { timeout: 5_000 }).toBe('ok');
    expect(await result().textContent()).toBe(`Pause of ${backupName} requested.`);
    await expect.poll(() => backup.getByTestId('connector-state').textContent(), { timeout: 10_000 }).toBe('PAUSED');
    expect(await backup.getByTestId('action-pause').count()).toBe(0);

    // Resume interrupts nothing: no confirmation.
    await backup.getByTestId('action-resume').click();
    await waitFor('RUNNING in the REST status', async () => {
      const s = await status(backupName);
      return s.connector.state === 'RUNNING' && s.tasks.every((task: { state: string }) => task.state === 'RUNNING');
    });
    await expect.poll(() => backup.getByTestId('connector-state').textContent(), { timeout: 10_000 }).toBe('RUNNING');
    expect(await result().textContent()).toBe(`Resume of ${backupName} requested.`);
  });

  it('says why a backup by id cannot be taken while a BackupSink task is FAILED, and restarts that task once its cause is gone', async () => {
    await sink(conflictName, conflictTopic, { 'bundle.max.records': '5' });
    const failed = connector(conflictName);
    await expect.poll(() => failed.getByTestId('task-state').textContent(), { timeout: 30_000 }).toBe('FAILED');
    expect((await status(conflictName)).tasks[0].state).toBe('FAILED');

    // A visible error, with the worker's own explanation.
    await page.getByTestId('take-backup').click();
    await expect.poll(() => result().getAttribute('data-outcome'), { timeout: 10_000 }).toBe('error');
    expect(await result().textContent()).toMatch(
      new RegExp(`^Take backup \\d+ failed: HTTP 409: Backup \\d+ cannot be taken: connector ${conflictName} is FAILED`),
    );

    // The operator removes the foreign object, then restarts the task from the page.
    for (const file of conflictFiles) rmSync(file);
    const asked = await answerConfirmation(failed.getByTestId('action-restart'), 'confirm-ok');
    expect(asked).toBe(`Restart task 0 of ${conflictName}? It starts again from its committed offsets.`);
    await waitFor('the restarted task backing up its records', async () => {
      const s = await status(conflictName);
      return s.tasks[0]?.state === 'RUNNING' && s.tasks[0]?.progress?.partitions?.[0]?.committed_offset === 5;
    });
    await expect.poll(() => failed.getByTestId('task-state').textContent(), { timeout: 10_000 }).toBe('RUNNING');
    expect(await failed.getByTestId('action-restart').count()).toBe(0);
  });

  it('takes a backup by id: it shows in the catalogue, and a reused id is refused with a visible error', async () => {
    const suggested = await page.getByTestId('backup-id').inputValue();
    expect(suggested).toMatch(/^\d+$/);
    await page.getByTestId('take-backup').click();
    await expect.poll(() => result().getAttribute('data-outcome'), { timeout: 10_000 }).toBe('ok');
    expect(await result().textContent()).toBe(`Backup ${suggested} started: it is listed below until it completes.`);
    const listed = await waitFor(`backup ${suggested} completed`, async () => {
      const answer = (await call('GET', '/backups')).body as { backupId: number; status: string }[];
      return answer.find((b) => b.backupId === Number(suggested) && b.status === 'COMPLETED');
    });
    expect(listed.status).toBe('COMPLETED');
    await expect.poll(() => page.getByTestId(`backup-${suggested}`).getByTestId('backup-status').textContent(), { timeout: 10_000 }).toBe('COMPLETED');
    // The backup flushed the slow sink's open bundle: nothing waits there any more.
    await expect.poll(() => connector(slowName).getByTestId('undurable-age').textContent(), { timeout: 10_000 }).toBe('Every record seen is durable.');

    await expect.poll(() => page.getByTestId('backup-id').inputValue(), { timeout: 10_000 }).toBe(String(Number(suggested) + 1));
    await page.getByTestId('backup-id').fill(suggested);
    await page.getByTestId('take-backup').click();
    await expect.poll(() => result().getAttribute('data-outcome'), { timeout: 10_000 }).toBe('error');
    expect(await result().textContent()).toMatch(new RegExp(`^Take backup ${suggested} failed: HTTP 409: Backup id ${suggested} is not greater than`));
  });

  it('draws records/s, lag and freshness as sparklines from the worker-side history, which a reload keeps', async () => {
    const backup = connector(backupName);
    const rate = backup.getByTestId('chart-rate').locator('svg');
    await expect.poll(async () => Number(await rate.getAttribute('data-points')), { timeout: 30_000 }).toBeGreaterThanOrEqual(10);
    expect(await rate.locator('polyline').count()).toBeGreaterThan(0);
    const coordinates = ((await rate.locator('polyline').first().getAttribute('points')) ?? '').trim().split(/\s+/);
    expect(coordinates.length).toBeGreaterThanOrEqual(2);
    for (const xy of coordinates) expect(xy).toMatch(/^\d+(\.\d)?,\d+(\.\d)?$/);
    expect(await backup.getByTestId('chart-lag').locator('svg').getAttribute('data-points')).not.toBe('0');
    expect(await backup.getByTestId('chart-undurable').locator('svg').getAttribute('data-points')).not.toBe('0');
    expect(await backup.getByTestId('chart-rate').locator('figcaption').textContent()).toMatch(/^Records\/s \(last 10 s\) now [\d.,]+\/s, max [\d.,]+\/s$/);

    await page.reload();
    await expect.poll(() => page.getByTestId('last-updated').getAttribute('datetime'), { timeout: 10_000 }).not.toBeNull();
    // The first render after the reload already has the series (it only grows up to its length): it was kept on the worker.
    expect(Number(await connector(backupName).getByTestId('chart-rate').locator('svg').getAttribute('data-points'))).toBeGreaterThanOrEqual(10);
  });

  it('fits the window at 1280 and at 390 px: nothing sticks out, charts have a size, buttons are visible and apart', async () => {
    const dir = tmpDir('ui-layout');
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 });
      await page.reload();
      await expect.poll(() => connector(backupName).getByTestId('chart-rate').count(), { timeout: 10_000 }).toBe(1);
      expect(await layoutProblems(page), `at ${width} px`).toEqual([]);
      for (const chart of await page.getByTestId('chart').all()) {
        const box = await chart.boundingBox();
        expect(box, `a chart at ${width} px`).not.toBeNull();
        expect(box!.width).toBeGreaterThan(100);
        expect(box!.height).toBeGreaterThan(20);
        expect(box!.x + box!.width).toBeLessThanOrEqual(width);
      }
      const buttons = [connector(backupName).getByTestId('action-pause'), page.getByTestId('take-backup')];
      for (const button of buttons) {
        expect(await button.isVisible(), `${await button.textContent()} at ${width} px`).toBe(true);
        const box = (await button.boundingBox())!;
        expect(box.width).toBeGreaterThan(30);
        expect(box.x + box.width).toBeLessThanOrEqual(width);
      }
      const png = await page.screenshot({ fullPage: true });
      writeFileSync(join(dir, `status-page-${width}.png`), png);
      // A full-page screenshot is as wide as the page: wider than the window would mean sideways scrolling.
      expect(decodePng(png).width, `full page at ${width} px`).toBe(width);
    }
    console.log(`status page screenshots: ${dir}`);
  });

  it('ran without script errors or CSP violations, and no answer or page showed the secret setting', async () => {
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
    expect(leaks).toEqual([]);
    expect(await page.content()).not.toContain(SECRET);
    // The masking is what kept it out: the config the page reads has the key, hidden.
    expect((await call('GET', `/connectors/${slowName}`)).body.config['s3.secret.access.key']).toBe('[hidden]');
  });
});
