import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBundle } from '../helpers/bundle-reader.js';
import { createTopic, produceLines } from '../helpers/kafka.js';
import { s3Settings } from '../helpers/s3.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { readFileSync } from 'node:fs';

function bundles(root: string, bucket: string, topic: string): { key: string; records: number }[] {
  const dir = join(root, bucket, topic, '0');
  let names: string[] = [];
  try {
    names = readdirSync(dir)
      .filter((n) => n.endsWith('.avro.gz'))
      .sort();
  } catch {
    return [];
  }
  return names.map((n) => {
    const key = `${topic}/0/${n}`;
    return { key, records: readBundle(key, readFileSync(join(dir, n))).records.length };
  });
}

describe('BackupSink labels, age-off and failures', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ 'offset.flush.interval.ms': 100 }, { captureLogs: true });
  });
  afterAll(async () => {
    await t.app.stop();
  });

  it('a new backup.label starts a full backup from the beginning into new buckets', async () => {
    const topic = uniqueName('label');
    const name = uniqueName('backup');
    const root = tmpDir('label-objects');
    await createTopic(topic, 1);
    produceLines(
      topic,
      0,
      Array.from({ length: 30 }, (_, i) => `k:${i}`),
    );
    const config = {
      'connector.class': 'BackupSink',
      topics: topic,
      'storage.type': 'local',
      'local.root': root,
      'bundle.max.records': '10',
      'backup.label': 'first',
    };
    await t.app.herder.putConfig(name, config, true);
    await waitFor('label first complete', () => bundles(root, 'coldstore-first-events', topic).reduce((n, b) => n + b.records, 0) === 30);
    await waitFor('offsets committed', async () => (await t.app.herder.getOffsets(name)).offsets[0]?.offset?.['kafka_offset'] === 30);

    await t.app.herder.putConfig(name, { ...config, 'backup.label': 'second' }, false);
    produceLines(
      topic,
      0,
      Array.from({ length: 10 }, (_, i) => `k:${30 + i}`),
    );
    const second = await waitFor('label second complete', () => {
      const found = bundles(root, 'coldstore-second-events', topic);
      return found.reduce((n, b) => n + b.records, 0) === 40 ? found : undefined;
    });
    expect(second[0]!.key).toBe(`${topic}/0/00000000000000000000-00000000000000000009.avro.gz`);
    expect(bundles(root, 'coldstore-first-events', topic).reduce((n, b) => n + b.records, 0)).toBe(30);
  });

  it('backs up the topics topics.regex matches, minus topics.exclude.regex', async () => {
    const base = uniqueName('rx').replace(/-/g, '_');
    const [kept, excluded] = [`${base}_kept`, `${base}_skip`];
    const name = uniqueName('backup');
    const root = tmpDir('regex-objects');
    await createTopic(kept, 1);
    await createTopic(excluded, 1);
    produceLines(kept, 0, ['a:1', 'b:2']);
    produceLines(excluded, 0, ['c:3']);
    await t.app.herder.putConfig(
      name,
      {
        'connector.class': 'BackupSink',
        'topics.regex': `${base}_.*`,
        'topics.exclude.regex': '.*_skip',
        'storage.type': 'local',
        'local.root': root,
        'bundle.max.records': '2',
        'backup.label': 'rx',
      },
      true,
    );
    await waitFor('kept topic backed up', () => bundles(root, 'coldstore-rx-events', kept).reduce((n, b) => n + b.records, 0) === 2);
    // The excluded topic is consumed and committed, never written.
    await waitFor('excluded topic committed', async () =>
      (await t.app.herder.getOffsets(name)).offsets.some((o) => o.partition['kafka_topic'] === excluded && o.offset?.['kafka_offset'] === 1),
    );
    expect(readdirSync(join(root, 'coldstore-rx-events')).filter((n) => n !== '~coldstore')).toEqual([kept]);
  });

  it('applies lifecycle rules where the store supports them and warns where it does not (S3Proxy)', async () => {
    const topic = uniqueName('lifecycle');
    const name = uniqueName('backup');
    await createTopic(topic, 1);
    await t.app.herder.putConfig(
      name,
      { 'connector.class': 'BackupSink', topics: topic, 'backup.label': uniqueName('lc').toLowerCase(), 'lifecycle.expire.days': '30', ...s3Settings() },
      true,
    );
    await waitFor('lifecycle warning', () => t.logs.some((l) => l.includes(name) && l.includes('does not support lifecycle rules')));
    expect(t.app.herder.status(name).tasks[0]?.state).toBe('RUNNING');
  });

  it('fails the task with a clear trace when a different object already sits at a bundle key, and the worker stays up', async () => {
    const topic = uniqueName('conflict');
    const name = uniqueName('backup');
    const root = tmpDir('conflict-objects');
    const key = `${topic}/0/00000000000000000000-00000000000000000004.avro.gz`;
    mkdirSync(join(root, 'coldstore-conflict-events', topic, '0'), { recursive: true });
    writeFileSync(join(root, 'coldstore-conflict-events', key), 'foreign bytes');
    mkdirSync(join(root, '.coldstore-meta', 'coldstore-conflict-events', topic, '0'), { recursive: true });
    writeFileSync(join(root, '.coldstore-meta', 'coldstore-conflict-events', `${key}.json`), JSON.stringify({ 'coldstore-body-sha256': 'f00' }));
    await createTopic(topic, 1);
    produceLines(
      topic,
      0,
      Array.from({ length: 5 }, (_, i) => `k:${i}`),
    );
    await t.app.herder.putConfig(
      name,
      { 'connector.class': 'BackupSink', topics: topic, 'storage.type': 'local', 'local.root': root, 'bundle.max.records': '5', 'backup.label': 'conflict' },
      true,
    );
    const task = await waitFor('task FAILED', () => {
      const s = t.app.herder.status(name).tasks[0];
      return s?.state === 'FAILED' ? s : undefined;
    });
    expect(task.trace).toContain('Conflict');
    expect(task.trace).toContain(key);
    expect((await t.app.herder.getOffsets(name)).offsets).toEqual([]);
    expect((await t.call('GET', '/health')).status).toBe(200);
  });
});
