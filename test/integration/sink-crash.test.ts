import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FileSinkLine } from '../../connectors/file-stream/sink.js';
import { createTopic, bootstrap, produceSteadily } from '../helpers/kafka.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { freePort, WorkerProcess } from '../helpers/worker-process.js';

const PARTITIONS = 3;
const PER_PARTITION = 3000;
const KILLS = 3;

function readLines(path: string): FileSinkLine[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as FileSinkLine);
}

function storedOffsets(dataDir: string, connector: string): Record<string, string> {
  const path = join(dataDir, 'checkpoints', `${encodeURIComponent(`sink-offsets/${connector}`)}.json`);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>) : {};
}

describe('sink loop survives SIGKILL with no loss and no re-delivery of committed offsets', () => {
  const dir = tmpDir('sink-crash');
  let worker: WorkerProcess | undefined;
  afterAll(async () => {
    await worker?.kill('SIGKILL');
  });

  it('delivers every record; re-deliveries only above the offsets committed at each kill', async () => {
    const topic = uniqueName('crash');
    const connector = uniqueName('fs');
    const out = join(dir, 'out.jsonl');
    await createTopic(topic, PARTITIONS);
    worker = new WorkerProcess(dir, await freePort(), { 'bootstrap.servers': bootstrap(), 'offset.flush.interval.ms': 300 });
    // The first run dies at a failpoint: records put (and written) since the last commit, offsets not yet stored.
    await worker.start([], { COLDSTORE_FAILPOINTS: 'sink.before-commit@4' });

    const created = await worker.api('POST', '/connectors', {
      name: connector,
      config: { 'connector.class': 'FileStreamSink', topics: topic, file: out },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: connector, type: 'sink', tasks: [{ connector, task: 0 }] });

    // Each run's output is the slice of the file it appended; committed offsets are read at each kill.
    const runStarts = [0];
    const committedAtKill: Record<string, string>[] = [];
    const producing = produceSteadily(topic, PARTITIONS, 0, PER_PARTITION, 25, 20);
    for (let k = 0; k < KILLS; k++) {
      if (k === 0) {
        expect(await worker.exited()).toBe('SIGKILL');
      } else {
        // Later kills land at random moments once this run has committed progress of its own.
        const before = storedOffsets(join(dir, 'data'), connector);
        await waitFor('this run to commit progress before the kill', () => {
          const now = storedOffsets(join(dir, 'data'), connector);
          return Object.entries(now).some(([tp, offset]) => BigInt(offset) > BigInt(before[tp] ?? '0'));
        });
        await new Promise((r) => setTimeout(r, Math.random() * 600));
        await worker.kill('SIGKILL');
      }
      committedAtKill.push(storedOffsets(join(dir, 'data'), connector));
      runStarts.push(readLines(out).length);
      await worker.start();
    }
    await producing;

    const all = await waitFor(
      'every offset delivered',
      () => {
        const lines = readLines(out);
        const seen = new Set(lines.map((l) => `${l.partition}/${l.offset}`));
        return seen.size === PARTITIONS * PER_PARTITION ? lines : undefined;
      },
      { timeoutMs: 90_000 },
    );

    // Bytes are what was produced, offset by offset (fresh topic: offset i holds record i).
    for (const line of all) {
      expect(line.topic).toBe(topic);
      expect(Buffer.from(line.key!, 'base64').toString()).toBe(`k-${line.partition}-${line.offset}`);
      expect(Buffer.from(line.value!, 'base64').toString()).toBe(`v-${line.partition}-${line.offset}`);
    }

    // No run delivers an offset twice, and no run after kill k re-delivers an offset committed at kill k.
    let redelivered = 0;
    for (let run = 0; run <= KILLS; run++) {
      const slice = all.slice(runStarts[run], runStarts[run + 1] ?? all.length);
      const keys = slice.map((l) => `${l.partition}/${l.offset}`);
      expect(new Set(keys).size).toBe(keys.length);
      if (run === 0) continue;
      const committed = committedAtKill[run - 1]!;
      for (const line of slice) {
        const floor = BigInt(committed[`${topic}/${line.partition}`] ?? '0');
        expect(BigInt(line.offset) >= floor, `run ${run} re-delivered committed offset ${line.partition}/${line.offset} (committed ${floor})`).toBe(true);
        if (all.slice(0, runStarts[run]).some((l) => l.partition === line.partition && l.offset === line.offset)) redelivered++;
      }
    }
    // The failpoint kill caught written-but-uncommitted records, so some were delivered again.
    expect(redelivered).toBeGreaterThan(0);

    await waitFor('final commit', () => {
      const final = storedOffsets(join(dir, 'data'), connector);
      return Array.from({ length: PARTITIONS }, (_, p) => final[`${topic}/${p}`]).every((o) => o === String(PER_PARTITION));
    });
    expect(await worker.kill('SIGTERM')).toBe(0);
    console.info(`sink-crash: ${all.length} lines for ${PARTITIONS * PER_PARTITION} offsets, ${redelivered} re-delivered after ${KILLS} kills`);
  });
});
