// Issue 17: Azul's real vectors produced several times in a row (re-sent events) and
// backed up with layout=azul by two tasks: the same keys and bytes on fresh buckets run
// after run, every event once under the layout's rule (identical bulks stored once, each
// index entry naming its range's bulk), `coldstore verify` exit 0; and a stream the
// dispatcher answered 404 shows in the task status and is stored once the dispatcher has it.
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamKey } from '../../connectors/layouts/azul/keys.js';
import { checkBackup } from '../faults/azul-proof.js';
import { sha256 } from '../helpers/azul-backup.js';
import { cliVerify, oneCopy, PARTITIONS, resentVectorSets, runIndependentListing, type VectorSet } from '../helpers/azul-resent.js';
import { binaryEvent } from '../helpers/azul-vectors.js';
import { startDispatcherDouble, type DispatcherDouble } from '../helpers/dispatcher-double.js';
import { createTopic, produceRecords } from '../helpers/kafka.js';
import { fetchObjects, s3Client, s3Settings } from '../helpers/s3.js';
import type { TestApp } from '../helpers/test-app.js';
import { launchChromium, listeningTestApp } from '../helpers/ui-browser.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const COPIES = 4;

describe('BackupSink layout azul: re-sent events', () => {
  const dir = tmpDir('azul-resent');
  let t: TestApp & { url: string };
  let double: DispatcherDouble;
  let sets: VectorSet[];
  let blobs: Map<string, Buffer>;
  beforeAll(async () => {
    t = await listeningTestApp({ 'offset.flush.interval.ms': 100 }, { captureLogs: true });
    double = await startDispatcherDouble();
    ({ sets, blobs } = resentVectorSets(double));
  });
  afterAll(async () => {
    await t.app.stop();
    await double.close();
  });

  const connectorConfig = (prefix: string, label: string, extra: Record<string, string>) => ({
    'connector.class': 'BackupSink',
    'topics.regex': `azul\\.${prefix}\\..*`,
    layout: 'azul',
    'backup.label': label,
    'dispatcher.url': double.url,
    'tasks.max': '2',
    'streams.spool.retry.ms': '300',
    ...s3Settings(),
    ...extra,
  });

  const committedThrough = async (name: string, prefix: string, copies: number) => {
    const { offsets } = await t.app.herder.getOffsets(name);
    const at = new Map(offsets.map((o) => [`${o.partition['kafka_topic']}/${o.partition['kafka_partition']}`, o.offset?.['kafka_offset']]));
    return sets.every((set) =>
      Array.from({ length: PARTITIONS }, (_, p) => at.get(`${set.spec(prefix).name}/${p}`) === copies * set.events.length).every(Boolean),
    );
  };

  /** One backup on fresh topics and buckets; `byAge`: bundles closed by time, one copy produced after the other was committed. */
  async function backupRun(byAge: boolean): Promise<{ listing: string[]; shared: number; renamed: number }> {
    const prefix = uniqueName('rs').replace(/-/g, '');
    const label = uniqueName('resent').toLowerCase();
    for (const set of sets) await createTopic(set.spec(prefix).name, PARTITIONS);
    const name = uniqueName('azul-resent');
    const extra = byAge
      ? { 'bundle.max.records': '1000', 'bundle.max.age.ms': '300' }
      : { 'bundle.max.records': String(COPIES), 'bundle.max.age.ms': '600000' };
    const config = connectorConfig(prefix, label, extra);
    if (!byAge) for (let c = 0; c < COPIES; c++) await produceRecords(oneCopy(sets, prefix));
    await t.app.herder.putConfig(name, config, true);
    for (let c = 0; c < COPIES; c++) {
      if (byAge) await produceRecords(oneCopy(sets, prefix));
      const copies = byAge ? c + 1 : COPIES;
      await waitFor(`${copies} copies committed`, () => committedThrough(name, prefix, copies), { timeoutMs: 60_000 });
    }
    await t.call('DELETE', `/connectors/${name}`);

    const topics = sets.map((set) => ({ spec: set.spec(prefix), produced: Array.from({ length: PARTITIONS }, () => COPIES * set.events.length) }));
    const report = await checkBackup(label, topics, blobs);
    expect(report.problems).toEqual([]);
    expect(report).toMatchObject({ lost: 0, duplicated: 0, mismatched: 0 });
    const verify = await cliVerify(dir, config);
    expect(verify.stderr + verify.stdout).toContain('OK');
    expect(verify.code).toBe(0);
    return {
      listing: runIndependentListing(await fetchObjects(s3Client(), `coldstore-${label}-events`), prefix),
      shared: report.shared,
      renamed: report.renamed,
    };
  }

  it(`bundle.max.records = ${COPIES} copies: the same keys and bytes on fresh buckets, identical bulks stored once, verify exit 0`, async () => {
    const first = await backupRun(false);
    const second = await backupRun(false);
    expect(second.listing).toEqual(first.listing);
    // The delete set (4 vectors) makes 4 identical ranges per partition: one object for all 8 entries.
    const deletes = first.listing.filter((l) => l.startsWith('system/delete/default/'));
    expect(deletes).toHaveLength(1);
    expect(first.shared).toBeGreaterThanOrEqual(2 * COPIES - 1);
    // The mixed set's two bulks want one key: the first range's keeps it in every run, the other gets its collision key.
    const mixed = first.listing.filter((l) => l.startsWith('mixed/binary/sourced/'));
    expect(mixed.map((l) => l.split(' ')[0]!.replace(/~[0-9a-f]{16}$/, '~<sha256>'))).toEqual([
      'mixed/binary/sourced/2023-11-14T22:13:20.9Z-4-resent',
      'mixed/binary/sourced/2023-11-14T22:13:20.9Z-4-resent~<sha256>',
    ]);
    // Two of Azul's binary vectors end runs of four with the same kafka_key and time too: their second bulk is renamed as well.
    const renamed = first.listing.filter((l) => !l.startsWith('~coldstore/') && l.split(' ')[0]!.includes('~'));
    expect(renamed.some((l) => l.startsWith('virustotal/binary/enriched/'))).toBe(true);
    expect(first.renamed).toBe(renamed.length);
  });

  it('bundles closed by time, one copy after the other: the same keys and bytes on fresh buckets, verify exit 0', async () => {
    const first = await backupRun(true);
    const second = await backupRun(true);
    expect(second.listing).toEqual(first.listing);
    expect(first.renamed).toBe(0);
    // One range per copy and partition, all of the same events: one bulk per model.
    for (const set of sets) expect(first.listing.filter((l) => l.startsWith(set.spec('x').bundlePrefix))).toHaveLength(1);
    expect(first.listing.filter((l) => l.startsWith('~coldstore/azul-index/'))).toHaveLength(sets.length * PARTITIONS * COPIES);
  });

  it('a stream the dispatcher answered 404 shows in the task status and the log, and a task restart stores it once the dispatcher has it', async () => {
    const prefix = uniqueName('ms').replace(/-/g, '');
    const label = uniqueName('missing').toLowerCase();
    const topic = `azul.${prefix}.late.binary.sourced`;
    await createTopic(topic, 1);
    const blob = randomBytes(3000);
    const sha = sha256(blob);
    const event = binaryEvent({ source: 'late', kafkaKey: 'late-1', timestampMicros: 1_700_000_000_000_000n, streams: [{ label: 'content', sha256: sha }] });
    await produceRecords([{ topic, partition: 0, key: null, value: event }]);
    const name = uniqueName('azul-missing');
    // The default retry interval (1 h): the restart below is what asks again.
    const config = connectorConfig(prefix, label, { 'tasks.max': '1', 'bundle.max.age.ms': '300' });
    await t.app.herder.putConfig(name, config, true);
    const progress = async () => (await t.call('GET', `/connectors/${name}/status`)).body?.tasks?.[0]?.progress?.azul_streams;
    const missing = await waitFor('the 404 counted in the status', async () => ((await progress())?.missing === 1 ? progress() : undefined), {
      timeoutMs: 30_000,
    });
    expect(missing).toMatchObject({ missing: 1, spooled: 0, missing_stored: 0 });
    const key = streamKey({ source: 'late', label: 'content', sha256: sha });
    expect(t.logs.some((l) => l.includes(name) && l.includes(key) && l.includes('missing list'))).toBe(true);
    // And on /ui, where an operator looks.
    const browser = await launchChromium();
    const page = await browser.newPage();
    const shown = async () => {
      await page.goto(t.url);
      return page.getByTestId(`connector-${name}`).getByTestId('azul-streams').textContent({ timeout: 10_000 });
    };
    expect(await shown()).toMatch(/^Azul streams of task 0: 1 missing \(the dispatcher answered 404.*, 0 spooled, 0 stored after a retry$/);
    const notYet = await cliVerify(dir, config);
    expect(notYet.code).toBe(1);
    expect(notYet.stdout).toContain('stream-missing');

    double.addStream('late', 'content', blob);
    expect((await t.call('POST', `/connectors/${name}/tasks/0/restart`)).status).toBeLessThan(300);
    const stored = await waitFor('stored after the retry', async () => ((await progress())?.missing === 0 ? progress() : undefined), { timeoutMs: 30_000 });
    expect(stored).toMatchObject({ missing: 0, missing_stored: 1 });
    expect(await shown()).toMatch(/: 0 missing .*, 1 stored after a retry$/);
    await browser.close();
    const streams = await fetchObjects(s3Client(), `coldstore-${label}-streams`);
    expect(streams.map((s) => s.key)).toEqual([key]);
    expect(gunzipSync(streams[0]!.body).equals(blob)).toBe(true);
    const verify = await cliVerify(dir, config);
    expect(verify.code).toBe(0);
    await t.call('DELETE', `/connectors/${name}`);
  });
});
