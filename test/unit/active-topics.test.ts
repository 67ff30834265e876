import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tpKey, type PartitionOffsets, type SinkRecord, type SinkTask } from '../../runtime/api/index.js';
import { Backoff } from '../../runtime/api/retry.js';
import { FileCheckpointStore } from '../../runtime/storage/file-checkpoint-store.js';
import { createLogger, type Logger } from '../../runtime/telemetry/logger.js';
import { ActiveTopics, forgetActiveTopics, readActiveTopics, topicsOf } from '../../runtime/worker/active-topics.js';
import { SinkTaskRunner } from '../../runtime/worker/sink-runner.js';
import { FakeConsumer } from '../helpers/fake-consumer.js';
import { MemoryCheckpointStore, runnerDeps } from '../helpers/runner-deps.js';
import { waitFor } from '../helpers/wait.js';

function store(): FileCheckpointStore {
  return new FileCheckpointStore(mkdtempSync(join(tmpdir(), 'cs-topics-')));
}

/** A store whose writes go through `write`, reads and the rest to `s`. */
function withWrite(s: FileCheckpointStore, write: (namespace: string, entries: Record<string, unknown>) => Promise<void>): FileCheckpointStore {
  return Object.assign(Object.create(s) as FileCheckpointStore, { write });
}

const noDelay = () => new Backoff(0, 0, 0);

describe('active topics (KIP-558)', () => {
  it('writes a topic only the first time a task uses it, and learns what other tasks recorded before it started', async () => {
    const s = store();
    const writes: string[][] = [];
    const counting = withWrite(s, (namespace, entries) => {
      writes.push(Object.keys(entries));
      return s.write(namespace, entries);
    });
    const first = new ActiveTopics(s, 'c', 0, createLogger('silent'));
    first.note(['a']);
    await first.settled();
    const task = new ActiveTopics(counting, 'c', 1, createLogger('silent'));
    for (const batch of [['a', 'b', 'b'], ['b', 'a'], ['c']]) {
      task.note(batch);
      await task.settled();
    }
    expect(writes).toEqual([['b'], ['c']]);
    expect(await readActiveTopics(s, 'c')).toEqual(['a', 'b', 'c']);
    await forgetActiveTopics(s, 'c');
    expect(await readActiveTopics(s, 'c')).toEqual([]);
  });

  it('a failed write never fails the task; its topics are written with a later batch, once the backoff is over', async () => {
    const s = store();
    let failures = 1;
    const flaky = withWrite(s, (namespace, entries) => (failures-- > 0 ? Promise.reject(new Error('disk full')) : s.write(namespace, entries)));
    const task = new ActiveTopics(flaky, 'c', 0, createLogger('silent'), noDelay());
    task.note(['a']);
    await task.settled();
    expect(await readActiveTopics(s, 'c')).toEqual([]);
    task.note(['b']);
    await task.settled();
    expect(await readActiveTopics(s, 'c')).toEqual(['a', 'b']);
  });

  it('after a failure the next batches write nothing until the backoff is over, and the failure is warned about once, not per batch', async () => {
    let writes = 0;
    const failing = withWrite(store(), () => {
      writes++;
      return Promise.reject(new Error('status topic away'));
    });
    const warnings: string[] = [];
    const log = { warn: (_fields: unknown, message: string) => void warnings.push(message) } as unknown as Logger;
    // A real backoff: the batches right after the failure fall inside it.
    const backedOff = new ActiveTopics(failing, 'c', 0, log);
    for (let i = 0; i < 5; i++) {
      backedOff.note(['a']);
      await backedOff.settled();
    }
    expect(writes).toBe(1);
    // Without a backoff every batch writes again, still warned about once per minute.
    const retrying = new ActiveTopics(failing, 'c', 0, log, noDelay());
    for (let i = 0; i < 5; i++) {
      retrying.note(['a']);
      await retrying.settled();
    }
    expect(writes).toBe(6);
    expect(warnings).toEqual([expect.stringMatching(/recording the active topics failed/), expect.stringMatching(/recording the active topics failed/)]);
  });

  it('flush (a task ending) writes the topics noted while a write was in flight, and waits for them', async () => {
    const s = store();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = withWrite(s, async (namespace, entries) => {
      await gate;
      return s.write(namespace, entries);
    });
    const task = new ActiveTopics(slow, 'c', 0, createLogger('silent'));
    task.note(['a']);
    task.note(['b']);
    const flushed = task.flush();
    release();
    await flushed;
    expect(await readActiveTopics(s, 'c')).toEqual(['a', 'b']);
  });

  it('topicsOf finds every topic of a batch, runs of one topic or interleaved', () => {
    expect([...topicsOf([{ topic: 'x' }, { topic: 'x' }, { topic: 'y' }, { topic: 'x' }, { topic: 'z' }])].sort()).toEqual(['x', 'y', 'z']);
    expect([...topicsOf([])]).toEqual([]);
  });
});

let running: SinkTaskRunner | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

describe('active topics and the commit loop', () => {
  it('a write of the active topics that never returns holds up no commit: offsets keep advancing, with one write in flight', async () => {
    const offsets = new MemoryCheckpointStore();
    let topicWrites = 0;
    const hanging = withWrite(store(), () => {
      topicWrites++;
      return new Promise<void>(() => undefined);
    });
    const consumer = new FakeConsumer([]);
    const task: SinkTask = {
      start: async () => undefined,
      open: async () => undefined,
      close: async () => undefined,
      put: async (_records: SinkRecord[]) => undefined,
      preCommit: async (consumed: PartitionOffsets) => new Map(consumed),
      stop: async () => undefined,
    };
    const deps = runnerDeps();
    running = new SinkTaskRunner({
      ...deps,
      task,
      config: { topics: 't' },
      store: offsets,
      createConsumer: (options) => {
        consumer.options = options;
        return consumer;
      },
      commitIntervalMs: 10,
      maxPollRecords: 5,
      activeTopics: new ActiveTopics(hanging, 'c', 0, deps.log),
    });
    running.start(false);
    await waitFor('consumer', () => consumer.connected, { intervalMs: 5, timeoutMs: 10_000 });
    const t0 = { topic: 't', partition: 0 };
    consumer.produce('t', 0, 5);
    consumer.rebalance({ kind: 'assigned', partitions: [t0] });
    await waitFor('first commit', async () => (await offsets.read('sink-offsets/c'))[tpKey(t0)] === '5', { intervalMs: 5, timeoutMs: 10_000 });
    consumer.produce('t', 0, 5);
    await waitFor('a later commit', async () => (await offsets.read('sink-offsets/c'))[tpKey(t0)] === '10', { intervalMs: 5, timeoutMs: 10_000 });
    expect(topicWrites).toBe(1);
  });
});
