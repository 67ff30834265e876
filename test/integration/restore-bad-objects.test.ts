import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../app/app.js';
import { readPartitions } from '../helpers/broker-records.js';
import { createTopic, produceLines } from '../helpers/kafka.js';
import { createTestApp } from '../helpers/test-app.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const RECORDS = 300;

describe('RestoreSource meets bad objects: fails naming the key, or skips and reports them; the worker stays up', () => {
  const root = tmpDir('restore-bad');
  const topic = uniqueName('bad');
  const label = uniqueName('bad').toLowerCase();
  const bucket = `coldstore-${label}-events`;
  let app: App;
  let keys: string[] = [];

  beforeAll(async () => {
    await createTopic(topic, 1);
    produceLines(
      topic,
      0,
      Array.from({ length: RECORDS }, (_, i) => `k${i}:v${i}`),
    );
    ({ app } = await createTestApp({}));
    const backup = uniqueName('backup');
    await app.herder.putConfig(
      backup,
      {
        'connector.class': 'BackupSink',
        topics: topic,
        'storage.type': 'local',
        'local.root': root,
        'backup.label': label,
        'bundle.max.records': '50',
        'bundle.max.age.ms': '200',
      },
      true,
    );
    await waitFor('backup complete', () => app.herder.committedOffsets().some((o) => o.topic === topic && o.offset === BigInt(RECORDS)), {
      timeoutMs: 20_000,
    }).catch((err: Error) => {
      throw new Error(
        `${err.message}: ${JSON.stringify(app.herder.status(backup))} ${JSON.stringify(app.herder.committedOffsets(), (_, v) => (typeof v === 'bigint' ? String(v) : v))}`,
      );
    });
    await app.herder.delete(backup);
    keys = readdirSync(join(root, bucket, topic, '0')).sort();
    expect(keys).toHaveLength(6);
    // Bundle 2 (offsets 50-99) gets corrupt bytes, bundle 4 (150-199) disappears, and a foreign file sits among them.
    writeFileSync(join(root, bucket, topic, '0', keys[1]!), Buffer.from('not gzip at all'));
    rmSync(join(root, bucket, topic, '0', keys[3]!));
    writeFileSync(join(root, bucket, topic, '0', 'notes.txt'), 'hello');
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
  });

  const config = (target: string, onBad: string) => ({
    'connector.class': 'RestoreSource',
    topics: topic,
    'topic.rename': `${topic}:${target}`,
    'storage.type': 'local',
    'local.root': root,
    'backup.label': label,
    'on.bad.object': onBad,
  });

  it('on.bad.object=fail: the task FAILS with a trace naming the corrupt object; the worker keeps serving', async () => {
    await app.herder.putConfig('restore-fail', config(`${topic}-fail`, 'fail'), true);
    const task = await waitFor('task FAILED', () => {
      const t = app.herder.status('restore-fail').tasks[0];
      return t?.state === 'FAILED' ? t : undefined;
    });
    expect(task.trace).toContain('BACKUP_OBJECT_INVALID');
    expect(task.trace).toContain(`${topic}/0/${keys[1]}`);
    expect(task.trace).toMatch(/corrupt-gzip/);
    expect(app.herder.status('restore-fail').connector.state).toBe('RUNNING');
    expect((await app.server.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });

  it('on.bad.object=skip: restores everything else and lists each skipped object and gap with its key', async () => {
    const target = `${topic}-skip`;
    await app.herder.putConfig('restore-skip', config(target, 'skip'), true);
    const task = await waitFor('task FINISHED', () => {
      const t = app.herder.status('restore-skip').tasks[0];
      if (t?.state === 'FAILED') throw new Error(t.trace);
      return t?.state === 'FINISHED' ? t : undefined;
    });
    const progress = task.progress as { records: number; bad_objects: number; skipped: { kind: string; key: string }[] };
    expect(progress.records).toBe(RECORDS - 100);
    expect(progress.skipped.map((s) => [s.kind, s.key]).sort()).toEqual([
      ['corrupt-gzip', `${topic}/0/${keys[1]}`],
      ['foreign', `${topic}/0/notes.txt`],
      ['gap', `${topic}/0/${keys[4]}`],
    ]);
    const restored = await readPartitions([{ topic: target, partition: 0 }]);
    const expected = Array.from({ length: RECORDS }, (_, i) => i).filter((i) => !(i >= 50 && i < 100) && !(i >= 150 && i < 200));
    expect(restored.map((r) => r.value!.toString())).toEqual(expected.map((i) => `v${i}`));
    const metrics = (await app.server.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/coldstore_restore_bad_objects_total\{[^}]*kind="gap"[^}]*\} 1/);
  });
});
