import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../app/app.js';
import { consumeInGroup } from '../helpers/group-consumer.js';
import { createTopic, produceLinesAsync, produceSteadily } from '../helpers/kafka.js';
import { colourStats, decodePng } from '../helpers/png.js';
import { newScript, scriptedSink } from '../helpers/scripted-sink.js';
import type { TestApp } from '../helpers/test-app.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { launchChromium, listeningTestApp } from '../helpers/ui-browser.js';
import { waitFor } from '../helpers/wait.js';

// Actions, charts and the layout at two widths: ui-actions.test.ts; served assets and the sampler: ui-served.test.ts.
const VIEWPORT = { width: 1280, height: 900 };

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
  /** A warm standby (restore.mode=follow) of the same backup, and a group it syncs. */
  const standbyName = uniqueName('ui-standby');
  const group = uniqueName('ui-group');
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
    ({ app, call, url } = await listeningTestApp({}, { plugins: [scriptedSink], app: { uiSampler: { sampleIntervalMs: 500 } } }));

    const storage = { 'storage.type': 'local', 'local.root': root, 'backup.label': label };
    const snapshots = { groups: group, 'metadata.snapshot.interval.ms': '1000' };
    await app.herder.putConfig(
      backupName,
      { 'connector.class': 'BackupSink', topics: topic, 'bundle.max.records': '20', 'bundle.max.age.ms': '200', 'gzip.level': '1', ...snapshots, ...storage },
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
    await consumeInGroup(group, topic, 100);
    const follow = { 'restore.mode': 'follow', 'topic.rename': `${topic}:${topic}-standby`, 'follow.interval.ms': '300', 'follow.groups.interval.ms': '1000' };
    await app.herder.putConfig(
      standbyName,
      { 'connector.class': 'RestoreSource', topics: topic, 'transaction.boundary': 'poll', ...follow, groups: group, ...storage },
      true,
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

    browser = await launchChromium();
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
      // With a plan the bar measures bytes read against bytes planned. The page may still
      // show a sample from before the plan was listed (records are handed out meanwhile):
      // the next samples must bring it.
      await expect.poll(async () => Number(await bar.getAttribute('value')), { timeout: 10_000 }).toBeGreaterThan(0);
    } else {
      // No plan in the task's progress: an indeterminate bar (no value) beside the counts.
      expect(await bar.getAttribute('value')).toBeNull();
    }
    expect(await restore.getByTestId('bad-objects').count()).toBe(0);
  });

  it('shows the backup lag per partition for the BackupSink, and none for the restore or another sink', async () => {
    const backup = connector(backupName);
    await expect.poll(() => backup.getByTestId('lag-table').count(), { timeout: 10_000 }).toBe(1);
    const table = backup.getByTestId('lag-table');
    for (let p = 0; p < partitions; p++) {
      const row = table.getByTestId(`lag-${topic}/${p}`);
      expect(await row.count(), `${topic}/${p}`).toBe(1);
      expect(await row.locator('td').count()).toBe(3);
    }
    expect(await table.locator('thead th').allTextContents()).toEqual(['Topic/partition', 'Committed', 'End', 'Lag']);
    expect(await table.locator('caption').textContent()).toBe('Backup lag of task 0');
    await expect.poll(() => backup.getByTestId('chart-lag').count(), { timeout: 10_000 }).toBe(1);
    expect(await backup.getByTestId('undurable-age').count()).toBe(1);

    // A restore has records/s, but no backup lag and no freshness: it backs nothing up.
    const restore = connector(restoreName);
    await expect.poll(() => restore.getByTestId('chart-rate').count(), { timeout: 10_000 }).toBe(1);
    expect(await restore.getByTestId('lag-table').count()).toBe(0);
    expect(await restore.getByTestId('chart-lag').count()).toBe(0);
    expect(await restore.getByTestId('undurable-age').count()).toBe(0);
    expect(await restore.getByText(/backup lag/i).count()).toBe(0);
    // Nor does a sink that is not a BackupSink.
    expect(await connector(failingName).getByTestId('lag-table').count()).toBe(0);
  });

  it('shows a following restore as a Standby: per partition its target, lag and newest record age, and the last group sync', async () => {
    const standby = connector(standbyName);
    // The first syncs may come before the group's records are restored: then the group is not listed yet.
    const synced = new RegExp(`^Last group sync: .*\\. ${group}: (up to date|\\d+ partitions? moved forward)$`);
    await expect.poll(() => standby.getByTestId('standby-groups').textContent(), { timeout: 60_000 }).toMatch(synced);
    expect(await standby.getByTestId('standby-synced-at').getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((await call('GET', `/connectors/${standbyName}/status`)).body.tasks[0].progress.phase).toBe('following');
    for (let p = 0; p < partitions; p++) {
      const row = standby.getByTestId(`standby-${topic}/${p}`);
      expect(await row.getByTestId('standby-target').textContent()).toBe(`${topic}-standby`);
      expect(await row.getByTestId('standby-lag').textContent()).toMatch(/^[\d,.]+$/);
      await expect.poll(() => row.getByTestId('standby-age').textContent(), { timeout: 10_000 }).toMatch(/^[\d.,]+ (s|min [\d]+ s|h)$/);
      expect(await row.getByTestId('standby-gap').textContent()).toMatch(/^(–|offsets [\d,.]+–[\d,.]+ since .+)$/);
    }
    // A standby never finishes: no progress bar; and its recovery point is exported as gauges too.
    expect(await standby.getByTestId('restore-progress').count()).toBe(0);
    const metrics = (await call('GET', '/metrics')).text;
    for (const gauge of ['coldstore_restore_follow_lag_offsets', 'coldstore_restore_follow_newest_record_timestamp_seconds'])
      expect(metrics).toMatch(new RegExp(`^${gauge}\\{[^}]*topic="${topic}"`, 'm'));
  });

  it('shows the backup catalogue', async () => {
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
    await expect.poll(() => row.getByTestId('backup-partitions').textContent(), { timeout: 10_000 }).toMatch(new RegExp(`^\\d+/${listed.partitions.length}$`));
    expect(['COMPLETED', 'IN_PROGRESS', 'FAILED']).toContain(await row.getByTestId('backup-status').textContent());
    expect(await row.getByTestId('backup-created').getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
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

  it('shows the finished restore at 100 %, and its connector as FINISHED although the REST status says RUNNING', async () => {
    const restore = connector(restoreName);
    await expect.poll(() => restore.getByTestId('task-state').textContent(), { timeout: 90_000, interval: 500 }).toBe('FINISHED');
    expect(await restore.getByTestId('task-state').getAttribute('class')).toContain('state-finished');
    await expect.poll(() => restore.getByTestId('connector-state').textContent(), { timeout: 10_000 }).toBe('FINISHED');
    expect((await call('GET', `/connectors/${restoreName}/status`)).body.connector.state).toBe('RUNNING');
    expect(await restore.getByTestId('connector-state').getAttribute('data-rest-state')).toBe('RUNNING');
    expect(await restore.getByTestId('connector-state').getAttribute('class')).toContain('state-finished');
    // Nothing left to pause in a finished restore; the running backup still offers it.
    expect(await restore.getByTestId('action-pause').count()).toBe(0);
    expect(await connector(backupName).getByTestId('action-pause').count()).toBe(1);
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
