import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  RetriableError,
  type KafkaCluster,
  type PollResult,
  type RecordPlacement,
  type SourceOffsetEntry,
  type SourceRecord,
  type SourceTask,
  type SourceTaskContext,
} from '../../runtime/api/index.js';
import { fromKafkaError } from '../../runtime/kafka/errors.js';
import { sourcePartitionKey } from '../../runtime/worker/source-offsets.js';
import { FINISHED_KEY, SourceTaskRunner, type SourceRunnerDeps } from '../../runtime/worker/source-runner.js';
import { FakeProducer } from '../helpers/fake-producer.js';
import { MemoryCheckpointStore, runnerDeps } from '../helpers/runner-deps.js';
import { waitFor } from '../helpers/wait.js';

const OFFSETS = 'source-offsets/c';
const PARTITION = { file: 'in.txt' };
const KEY = sourcePartitionKey(PARTITION);

function record(position: number): SourceRecord {
  return { sourcePartition: PARTITION, sourceOffset: { position }, topic: 'out', key: null, value: Buffer.from(`line ${position}`) };
}

/** A source task that hands out scripted poll results, then nothing. */
class ScriptedTask implements SourceTask {
  context!: SourceTaskContext;
  startedFrom: unknown;
  stopped = false;
  delivered?: (records: readonly SourceRecord[], placements: readonly RecordPlacement[]) => SourceOffsetEntry[];

  constructor(private readonly results: PollResult[]) {}

  async start(_config: Record<string, string>, context: SourceTaskContext): Promise<void> {
    this.context = context;
    this.startedFrom = await context.offset(PARTITION);
  }
  async poll(): Promise<PollResult> {
    return this.results.shift() ?? { records: [] };
  }
  async stop(): Promise<void> {
    this.stopped = true;
  }
}

let running: SourceTaskRunner | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

interface Fakes {
  store?: MemoryCheckpointStore;
  autoAcknowledge?: boolean;
  configureProducer?: (producer: FakeProducer) => void;
  configureTask?: (task: ScriptedTask) => void;
}

function startRunner(sessions: PollResult[][], fakes: Fakes = {}, deps: Partial<SourceRunnerDeps> = {}) {
  const store = fakes.store ?? new MemoryCheckpointStore();
  const tasks: ScriptedTask[] = [];
  const producers: FakeProducer[] = [];
  const cluster = { createTopic: async () => undefined } as unknown as KafkaCluster;
  const runner = new SourceTaskRunner({
    ...runnerDeps(),
    config: {},
    store,
    cluster,
    newTask: () => {
      const task = new ScriptedTask(sessions.shift() ?? []);
      fakes.configureTask?.(task);
      tasks.push(task);
      return task;
    },
    createProducer: (producerOptions) => {
      const producer = new FakeProducer(producerOptions);
      producer.autoAcknowledge = fakes.autoAcknowledge ?? false;
      fakes.configureProducer?.(producer);
      producers.push(producer);
      return producer;
    },
    ...deps,
  });
  runner.start(false);
  running = runner;
  return { runner, store, tasks, producers };
}

const storedPosition = async (store: MemoryCheckpointStore) => ((await store.read(OFFSETS))[KEY] as SourceOffsetEntry | undefined)?.offset['position'];

describe('SourceTaskRunner', () => {
  it("persists a batch's offsets only once Kafka acknowledged every record of it and of every batch polled before it", async () => {
    const { store, producers } = startRunner([[{ records: [record(1), record(2)] }, { records: [record(3)] }]]);
    await waitFor('three sends', () => producers[0]?.sent.length === 3, { intervalMs: 5 });
    const producer = producers[0]!;
    expect(producer.options).toEqual({ clientId: 'coldstore-c-0' });
    producer.acknowledge(2);
    producer.acknowledge(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(await storedPosition(store)).toBeUndefined();
    producer.acknowledge(1);
    await waitFor('offsets persisted', async () => (await storedPosition(store)) === 3, { intervalMs: 5 });
    const written = store.writes.filter((w) => w.namespace === OFFSETS).map((w) => (w.entries[KEY] as SourceOffsetEntry).offset['position']);
    expect(written).toEqual([2, 3]);
  });

  it('persists what the task derives from where its records landed in the same write as the batch', async () => {
    const { store } = startRunner([[{ records: [record(1), record(2)] }]], {
      autoAcknowledge: true,
      configureTask: (task) => {
        task.delivered = (records, placements) => [
          { partition: { placements: 'out' }, offset: { last: Number(placements.at(-1)!.offset), count: records.length } },
        ];
      },
    });
    await waitFor('offsets persisted', async () => (await storedPosition(store)) === 2, { intervalMs: 5 });
    const write = store.writes.find((w) => w.namespace === OFFSETS)!;
    expect(write.entries[sourcePartitionKey({ placements: 'out' })]).toEqual({ partition: { placements: 'out' }, offset: { last: 1, count: 2 } });
  });

  it('a failed delivery is never persisted: after a retriable failure a new task instance resumes from the persisted offsets', async () => {
    const { store, tasks, producers, runner } = startRunner([[{ records: [record(1)] }, { records: [record(2)] }], [{ records: [record(2)] }]]);
    await waitFor('two sends', () => producers[0]?.sent.length === 2, { intervalMs: 5 });
    producers[0]!.acknowledge(0);
    producers[0]!.fail(1, new RetriableError('broker away'));
    await waitFor('second session', () => producers[1]?.sent.length === 1, { timeoutMs: 5_000, intervalMs: 5 });
    expect(tasks[0]!.stopped).toBe(true);
    expect(tasks[1]!.startedFrom).toEqual({ position: 1 });
    const written = store.writes.filter((w) => w.namespace === OFFSETS).map((w) => (w.entries[KEY] as SourceOffsetEntry).offset['position']);
    expect(written).toEqual([1]);
    producers[1]!.acknowledge(0);
    await waitFor('the retried record persisted', async () => (await storedPosition(store)) === 2, { intervalMs: 5 });
    expect(runner.status().state).toBe('RUNNING');
  });

  it('any other delivery failure fails the task and persists nothing of it', async () => {
    const { store, producers, runner } = startRunner([[{ records: [record(1)] }]]);
    await waitFor('send', () => producers[0]?.sent.length === 1, { intervalMs: 5 });
    producers[0]!.fail(0, new Error('record too large'));
    await waitFor('failed', () => runner.status().state === 'FAILED', { intervalMs: 5 });
    expect(runner.status().trace).toContain('record too large');
    expect(await storedPosition(store)).toBeUndefined();
  });

  it('a task that never hands over records (RestoreSource with target=dispatcher) opens no producer; the first records open one', async () => {
    const idle = startRunner([[{ records: [] }, { records: [] }, { records: [] }, { done: true, summary: { posted: 3 } }]]);
    await waitFor('finished', () => idle.runner.status().state === 'FINISHED', { intervalMs: 5 });
    expect(idle.tasks).toHaveLength(1);
    expect(idle.producers).toEqual([]);
    await idle.runner.stop();

    const later = startRunner([[{ records: [] }, { records: [record(1)] }]], { autoAcknowledge: true });
    await waitFor('one send', () => later.producers[0]?.sent.length === 1, { intervalMs: 5 });
    expect(later.producers).toHaveLength(1);
    expect(later.producers[0]!.events[0]).toBe('connect');
  });

  it('done: drains, persists, marks the task FINISHED; a restarted runner on the same store does not run it again', async () => {
    const store = new MemoryCheckpointStore();
    const first = startRunner([[{ records: [record(1)] }, { done: true, summary: { lines: 1 } }]], { store, autoAcknowledge: true });
    await waitFor('finished', () => first.runner.status().state === 'FINISHED', { intervalMs: 5 });
    expect(await storedPosition(store)).toBe(1);
    expect((await store.read('task-state/c/0'))[FINISHED_KEY]).toMatchObject({ summary: { lines: 1 } });
    await first.runner.stop();
    const again = startRunner([[{ records: [record(2)] }]], { store, autoAcknowledge: true });
    await waitFor('finished again', () => again.runner.status().state === 'FINISHED', { intervalMs: 5 });
    expect(again.tasks).toEqual([]);
    expect(again.runner.status().progress).toEqual({ lines: 1 });
  });

  it('transactional: the offsets topic wins at start; each poll is one transaction with its offsets, persisted after the commit; an aborted one persists nothing', async () => {
    const store = new MemoryCheckpointStore();
    await store.write(OFFSETS, { [KEY]: { partition: PARTITION, offset: { position: 0 } } });
    // What the offsets topic holds: position 5 at first, then what the committed transaction put there.
    let topicPosition = 5;
    const { producers, tasks } = startRunner(
      [[{ records: [record(6)] }, { records: [record(7)] }], []],
      {
        store,
        autoAcknowledge: true,
        configureProducer: (producer) => {
          producer.failWhen = (r) => (r.value?.toString() === 'line 7' ? new Error('broker away') : undefined);
        },
      },
      { offsetsTopic: { name: 'offsets', readOffsets: async () => ({ [KEY]: { partition: PARTITION, offset: { position: topicPosition } } }) } },
    );
    await waitFor('first transaction committed', () => producers[0]?.events.includes('commitTransaction'), { intervalMs: 5 });
    topicPosition = 6;
    await waitFor('second session', () => tasks[1], { timeoutMs: 5_000, intervalMs: 5 });
    const producer = producers[0]!;
    expect(producer.options).toEqual({ clientId: 'coldstore-c-0', transactionalId: 'coldstore-c-0' });
    expect(tasks[0]!.startedFrom).toEqual({ position: 5 });
    expect(producer.events).toEqual([
      'connect',
      'initTransactions',
      'beginTransaction',
      'send out',
      'send offsets',
      'commitTransaction',
      'beginTransaction',
      'send out',
      // A transaction's own offsets go out with its records: the abort discards both.
      'send offsets',
      'abortTransaction',
      'disconnect',
    ]);
    expect(tasks[1]!.startedFrom).toEqual({ position: 6 });
    const written = store.writes.filter((w) => w.namespace === OFFSETS).map((w) => (w.entries[KEY] as SourceOffsetEntry).offset['position']);
    // The stale stored value, the offsets topic's at the first start, the committed transaction, the topic's at the restart.
    expect(written).toEqual([0, 5, 6, 6]);
  });

  it('a fenced transaction (the broker aborted it after a pause): standalone starts over from the committed offsets; in cluster mode the copy stops', async () => {
    const fenced = fromKafkaError({ message: 'Local: This instance has been fenced by a newer instance', code: -144 }, 'commit transaction');
    for (const restartWhenFenced of [true, false]) {
      const { runner, tasks } = startRunner(
        [[{ records: [record(1)] }], []],
        { autoAcknowledge: true, configureProducer: (producer) => (producer.failWhen = () => fenced) },
        { offsetsTopic: { name: 'offsets', readOffsets: async () => ({}) }, restartWhenFenced },
      );
      if (restartWhenFenced) {
        await waitFor('a new session', () => tasks[1], { timeoutMs: 5_000, intervalMs: 5 });
        expect(runner.currentState).toBe('RUNNING');
      } else {
        await waitFor('the copy stopped', () => runner.currentState === 'UNASSIGNED', { timeoutMs: 5_000, intervalMs: 5 });
        expect(tasks).toHaveLength(1);
      }
      await runner.stop();
    }
  });

  it('standalone, fenced again and again (a second process with the same transactional id): fails after 5 restarts, saying so', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const fenced = fromKafkaError({ message: 'Local: This instance has been fenced by a newer instance', code: -144 }, 'commit transaction');
      const sessions = Array.from({ length: 8 }, () => [{ records: [record(1)] }]);
      const { runner, tasks } = startRunner(
        sessions,
        { autoAcknowledge: true, configureProducer: (producer) => (producer.failWhen = () => fenced) },
        { offsetsTopic: { name: 'offsets', readOffsets: async () => ({}) }, restartWhenFenced: true },
      );
      for (let i = 0; i < 200 && runner.currentState !== 'FAILED'; i++) await vi.advanceTimersByTimeAsync(1_000);
      expect(runner.currentState).toBe('FAILED');
      expect(tasks).toHaveLength(6);
      expect(runner.status().trace).toMatch(/Fenced 6 times in 10 minutes: another process is running task 0 of c/);
    } finally {
      vi.useRealTimers();
    }
  });
});
