import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { App } from '../../app/app.js';
import { createTestApp } from '../helpers/test-app.js';
import { consumeAll } from '../helpers/kafka.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const LINES = 500;

describe('source loop: a finite job finishes once, survives a restart, and runs again only after an offsets reset', () => {
  const dir = tmpDir('source-loop');
  const apps: App[] = [];
  afterAll(async () => {
    for (const app of apps) await app.stop().catch(() => undefined);
  });

  async function startApp(): Promise<App> {
    const { app } = await createTestApp({}, { dataDir: join(dir, 'data') });
    apps.push(app);
    return app;
  }

  async function finished(app: App, name: string) {
    return waitFor(`${name} FINISHED`, () => {
      const task = app.herder.status(name).tasks[0];
      return task?.state === 'FINISHED' ? task : undefined;
    });
  }

  it('produces every line once, in order', async () => {
    const topic = uniqueName('src');
    const name = uniqueName('file-source');
    const file = join(dir, 'input.txt');
    const lines = Array.from({ length: LINES }, (_, i) => `line ${i} ${'x'.repeat(i % 17)}`);
    writeFileSync(file, `${lines.join('\n')}\n`);

    let app = await startApp();
    await app.herder.putConfig(name, { 'connector.class': 'FileStreamSource', file, topic, 'finish.at.eof': 'true', 'batch.size': '64' }, true);
    const task = await finished(app, name);
    expect(task.progress).toMatchObject({ lines: LINES });
    expect(consumeAll(topic, LINES).map((m) => m.payload)).toEqual(lines);
    const offsets = await app.herder.getOffsets(name);
    expect(offsets.offsets).toEqual([{ partition: { file }, offset: { position: Buffer.byteLength(`${lines.join('\n')}\n`) } }]);

    // A new worker on the same data directory shows the job FINISHED and does not run it again.
    await app.stop();
    app = await startApp();
    expect((await finished(app, name)).progress).toMatchObject({ lines: LINES });
    await new Promise((r) => setTimeout(r, 1_500));
    expect(consumeAll(topic, LINES * 2)).toHaveLength(LINES);

    // After stop + offsets reset + resume, it runs from the start again.
    await app.herder.setTarget(name, 'STOPPED');
    await app.herder.resetOffsets(name);
    await app.herder.setTarget(name, 'RUNNING');
    await finished(app, name);
    await waitFor('second run delivered', () => consumeAll(topic, LINES * 3).length === LINES * 2);
  });
});
