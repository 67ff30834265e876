import { afterEach, describe, expect, it } from 'vitest';
import { RetriableError, type KafkaCluster, type PollResult, type SourceOffsetEntry, type SourceRecord, type SourceTask } from '../../runtime/api/index.js';
import { sourcePartitionKey } from '../../runtime/worker/source-offsets.js';
import { SourceTaskRunner } from '../../runtime/worker/source-runner.js';
import { FakeProducer } from '../helpers/fake-producer.js';
import { MemoryCheckpointStore, runnerDeps } from '../helpers/runner-deps.js';
import { waitFor } from '../helpers/wait.js';

const OFFSETS = 'source-offsets/c';
const PARTITION = { file: 'in.txt' };
const KEY = sourcePartitionKey(PARTITION);

function record(position: number): SourceRecord {
  return { sourcePartition: PARTITION, sourceOffset: { position }, topic: 'out', key: null, value: Buffer.from(`line ${position}`) };
}

/** A commit the test resolves or fails when it wants. */
interface HeldCommit {
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * A transactional runner whose task journals each poll and whose producer journals each
 * transaction begun and holds each commit until the test lets it go (when `holdCommits`).
 */
function startRunner(sessions: PollResult[][], holdCommits: () => boolean) {
  const journal: string[] = [];
  const held: HeldCommit[] = [];
  const producers: FakeProducer[] = [];
  const store = new MemoryCheckpointStore();
  const runner = new SourceTaskRunner({
    ...runnerDeps(),
    config: {},
    store,
    cluster: { createTopic: async () => undefined } as unknown as KafkaCluster,
    offsetsTopic: { name: 'offsets', readOffsets: async () => ({}) },
    newTask: () => {
      const script = sessions.shift() ?? [];
      const task: SourceTask = {
        start: async () => undefined,
        poll: async () => {
          const result = script.shift() ?? { records: [] };
          if ('records' in result && result.records.length > 0) journal.push(`poll ${result.records.map((r) => r.sourceOffset['position']).join()}`);
          return result;
        },
        stop: async () => undefined,
      };
      return task;
    },
    createProducer: (options) => {
      const producer = new FakeProducer(options);
      producer.autoAcknowledge = true;
      const begin = producer.beginTransaction.bind(producer);
      producer.beginTransaction = async () => {
        journal.push('begin');
        await begin();
      };
      producer.commitTransaction = () => {
        producer.events.push('commitTransaction');
        if (!holdCommits()) {
          journal.push('committed');
          return Promise.resolve();
        }
        return new Promise<void>((resolve, reject) =>
          held.push({
            resolve: () => {
              journal.push('committed');
              resolve();
            },
            reject: (err) => {
              journal.push('commit failed');
              reject(err);
            },
          }),
        );
      };
      producers.push(producer);
      return producer;
    },
  });
  runner.start(false);
  running = runner;
  const positions = () =>
    store.writes.filter((w) => w.namespace === OFFSETS && w.entries[KEY]).map((w) => (w.entries[KEY] as SourceOffsetEntry).offset['position']);
  return { runner, journal, held, producers, positions };
}

let running: SourceTaskRunner | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

const settle = () => new Promise((r) => setTimeout(r, 100));

describe('transactional delivery: the next poll overlaps the commit', () => {
  it('polls N+1 while commit N is in flight; transaction N+1 begins, and offsets are persisted, only once N committed; stop waits for the commit in flight', async () => {
    const { journal, held, positions, runner } = startRunner([[{ records: [record(1)] }, { records: [record(2)] }, { records: [record(3)] }]], () => true);
    await waitFor('the second poll', () => journal.includes('poll 2'), { intervalMs: 5 });
    await settle();
    expect(journal).toEqual(['poll 1', 'begin', 'poll 2']);
    expect(held).toHaveLength(1);
    expect(positions()).toEqual([]);

    held[0]!.resolve();
    await waitFor('the third poll', () => journal.includes('poll 3'), { intervalMs: 5 });
    expect(journal).toEqual(['poll 1', 'begin', 'poll 2', 'committed', 'begin', 'poll 3']);
    expect(positions()).toEqual([1]);

    held[1]!.resolve();
    await waitFor('the third transaction', () => held.length === 3, { intervalMs: 5 });
    const stopped = runner.stop();
    await settle();
    expect(positions()).toEqual([1, 2]);
    held[2]!.resolve();
    await stopped;
    expect(journal).toEqual(['poll 1', 'begin', 'poll 2', 'committed', 'begin', 'poll 3', 'committed', 'begin', 'committed']);
    expect(positions()).toEqual([1, 2, 3]);
  });

  it('a failed commit N: the records of poll N+1 are never sent in that session, and the next session redoes N, then N+1, in order', async () => {
    let hold = true;
    const { journal, held, producers, positions } = startRunner(
      [
        [{ records: [record(1)] }, { records: [record(2)] }],
        [{ records: [record(1)] }, { records: [record(2)] }],
      ],
      () => hold,
    );
    await waitFor('the second poll', () => journal.includes('poll 2'), { intervalMs: 5 });
    hold = false;
    held[0]!.reject(new RetriableError('broker away'));
    await waitFor('the second session committed both', () => positions().length === 2, { timeoutMs: 5_000, intervalMs: 5 });

    expect(producers[0]!.events).toEqual([
      'connect',
      'initTransactions',
      'beginTransaction',
      'send out',
      'send offsets',
      'commitTransaction',
      'abortTransaction',
      'disconnect',
    ]);
    expect(producers[0]!.sent.map((s) => s.record.value?.toString())).toEqual(['line 1', '{"position":1}']);
    expect(producers[1]!.sent.filter((s) => s.record.topic === 'out').map((s) => s.record.value?.toString())).toEqual(['line 1', 'line 2']);
    expect(journal).toEqual(['poll 1', 'begin', 'poll 2', 'commit failed', 'poll 1', 'begin', 'poll 2', 'committed', 'begin', 'committed']);
    expect(positions()).toEqual([1, 2]);
  });
});
