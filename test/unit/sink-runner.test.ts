import { afterEach, describe, expect, it } from 'vitest';
import {
  RetriableError,
  START_OF_PARTITION,
  tpKey,
  type AssignedPartition,
  type ClosedHow,
  type CommitReason,
  type PartitionOffsets,
  type SinkRecord,
  type SinkTask,
  type SinkTaskContext,
  type TopicPartition,
} from '../../runtime/api/index.js';
import { EARLIEST } from '../../runtime/worker/sink-offsets.js';
import { SinkTaskRunner } from '../../runtime/worker/sink-runner.js';
import { FakeConsumer } from '../helpers/fake-consumer.js';
import { MemoryCheckpointStore, runnerDeps } from '../helpers/runner-deps.js';
import { waitFor } from '../helpers/wait.js';

const OFFSETS = 'sink-offsets/c';
const t0 = { topic: 't', partition: 0 };
const t1 = { topic: 't', partition: 1 };

/** A sink task that records what it is given; each hook can be replaced per test. */
class RecordingTask implements SinkTask {
  context!: SinkTaskContext;
  readonly received: SinkRecord[] = [];
  readonly putBatches: SinkRecord[][] = [];
  readonly opened: AssignedPartition[][] = [];
  readonly reasons: CommitReason[] = [];
  /** Next-offsets the task reports durable; by default everything consumed. */
  durable: (consumed: PartitionOffsets) => PartitionOffsets = (consumed) => new Map(consumed);
  onPut: (records: SinkRecord[]) => void = () => undefined;
  starts: PartitionOffsets | void = undefined;
  stopped = false;

  constructor(private readonly events: string[]) {}

  async start(_config: Record<string, string>, context: SinkTaskContext): Promise<void> {
    this.context = context;
  }
  async open(partitions: AssignedPartition[]): Promise<PartitionOffsets | void> {
    this.events.push(`open ${partitions.map((p) => `${tpKey(p)}@${p.committed ?? 'none'}`).join(' ')}`);
    this.opened.push(partitions);
    return this.starts;
  }
  async put(records: SinkRecord[]): Promise<void> {
    this.putBatches.push(records);
    this.onPut(records);
    this.received.push(...records);
  }
  async preCommit(consumed: PartitionOffsets, reason: CommitReason): Promise<PartitionOffsets> {
    this.events.push(`preCommit ${reason}`);
    this.reasons.push(reason);
    return this.durable(consumed);
  }
  async close(partitions: TopicPartition[], how?: ClosedHow): Promise<void> {
    this.events.push(`close ${how} ${partitions.map(tpKey).join(' ')}`);
  }
  async stop(): Promise<void> {
    this.stopped = true;
  }
}

let running: SinkTaskRunner | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

function startRunner(options: { commitIntervalMs?: number; store?: MemoryCheckpointStore } = {}) {
  const events: string[] = [];
  const consumer = new FakeConsumer(events);
  const task = new RecordingTask(events);
  const store = options.store ?? new MemoryCheckpointStore();
  const runner = new SinkTaskRunner({
    ...runnerDeps(),
    task,
    config: { topics: 't' },
    store,
    createConsumer: (opts) => {
      consumer.options = opts;
      return consumer;
    },
    commitIntervalMs: options.commitIntervalMs ?? 60_000,
    maxPollRecords: 7,
  });
  runner.start(false);
  running = runner;
  return { runner, consumer, task, store, events };
}

const offsetsOf = (records: SinkRecord[], tp: TopicPartition) => records.filter((r) => tpKey(r) === tpKey(tp)).map((r) => Number(r.offset));
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('SinkTaskRunner', () => {
  it('joins its group as connect-<connector> and hands every record of its partitions to the task, in offset order', async () => {
    const { consumer, task } = startRunner();
    await waitFor('consumer', () => consumer.connected, { intervalMs: 5 });
    expect(consumer.options).toMatchObject({ groupId: 'connect-c', clientId: 'coldstore-c-0', topics: ['t'] });
    consumer.produce('t', 0, 20);
    consumer.produce('t', 1, 15);
    consumer.produce('other', 0, 5);
    consumer.rebalance({ kind: 'assigned', partitions: [t0, t1] });
    await waitFor('every record', () => task.received.length === 35, { intervalMs: 5 });
    expect(offsetsOf(task.received, t0)).toEqual(range(0, 20));
    expect(offsetsOf(task.received, t1)).toEqual(range(0, 15));
    expect(task.putBatches.every((b) => b.length <= 7)).toBe(true);
  });

  it('commits what preCommit reports durable to the checkpoint store, then the group; never beyond, never backwards, never a partition it does not own', async () => {
    const { consumer, task, store, runner } = startRunner({ commitIntervalMs: 20 });
    await waitFor('consumer', () => consumer.connected, { intervalMs: 5 });
    consumer.produce('t', 0, 10);
    let durableThrough = 4n;
    task.durable = () =>
      new Map([
        [tpKey(t0), durableThrough],
        ['t/9', 100n],
      ]);
    consumer.rebalance({ kind: 'assigned', partitions: [t0] });
    await waitFor('commit at 4', async () => (await store.read(OFFSETS))[tpKey(t0)] === '4', { intervalMs: 5 });
    expect(task.reasons).toContain('interval');
    durableThrough = 2n;
    await waitFor('more commits asked', () => task.reasons.length > 5, { intervalMs: 5 });
    durableThrough = 9n;
    await waitFor('commit at 9', async () => (await store.read(OFFSETS))[tpKey(t0)] === '9', { intervalMs: 5 });
    const written = store.writes.filter((w) => w.namespace === OFFSETS).map((w) => w.entries);
    expect(written).toEqual([{ [tpKey(t0)]: '4' }, { [tpKey(t0)]: '9' }]);
    expect(consumer.groupCommits).toEqual([
      { key: tpKey(t0), offset: 4n },
      { key: tpKey(t0), offset: 9n },
    ]);
    expect(runner.committedOffsets()).toEqual([{ ...t0, offset: 9n, highWatermark: 10n }]);
  });

  it('a revoked partition is committed, then closed, then given back', async () => {
    const { consumer, task, store, events } = startRunner();
    await waitFor('consumer', () => consumer.connected, { intervalMs: 5 });
    consumer.produce('t', 0, 5);
    consumer.rebalance({ kind: 'assigned', partitions: [t0] });
    await waitFor('records', () => task.received.length === 5, { intervalMs: 5 });
    consumer.rebalance({ kind: 'revoked', partitions: [t0], lost: false });
    await waitFor('unassigned', () => events.includes('unassign'), { intervalMs: 5 });
    const revoke = events.indexOf('preCommit revoke');
    expect(revoke).toBeGreaterThan(-1);
    expect(events.indexOf('close revoked t/0')).toBeGreaterThan(revoke);
    expect(events.indexOf('unassign')).toBeGreaterThan(events.indexOf('close revoked t/0'));
    expect((await store.read(OFFSETS))[tpKey(t0)]).toBe('5');
  });

  it('a lost assignment is closed as lost and commits nothing', async () => {
    const { consumer, task, store, events, runner } = startRunner();
    await waitFor('consumer', () => consumer.connected, { intervalMs: 5 });
    consumer.produce('t', 0, 5);
    consumer.rebalance({ kind: 'assigned', partitions: [t0] });
    await waitFor('records', () => task.received.length === 5, { intervalMs: 5 });
    consumer.rebalance({ kind: 'revoked', partitions: [t0], lost: true });
    await waitFor('closed', () => events.includes('close lost t/0'), { intervalMs: 5 });
    expect(task.reasons).toEqual([]);
    expect(store.writes.filter((w) => w.namespace === OFFSETS)).toEqual([]);
    expect(consumer.groupCommits).toEqual([]);
    expect(runner.partitionProgress()).toEqual([]);
    await runner.stop();
    // Nothing owned at shutdown: no final commit either.
    expect(task.reasons).toEqual([]);
  });

  it('an assigned partition starts at its stored offset (EARLIEST: the start of the partition); a start the task chose is stored at once', async () => {
    const store = new MemoryCheckpointStore();
    await store.write(OFFSETS, { [tpKey(t0)]: '3', [tpKey(t1)]: EARLIEST });
    store.writes.length = 0;
    const { consumer, task, events } = startRunner({ store });
    await waitFor('consumer', () => consumer.connected, { intervalMs: 5 });
    consumer.produce('t', 0, 10);
    consumer.produce('t', 1, 10);
    task.starts = new Map([[tpKey(t1), 6n]]);
    consumer.rebalance({ kind: 'assigned', partitions: [t0, t1] });
    await waitFor('records', () => task.received.length === 11, { intervalMs: 5 });
    expect(events).toContain('open t/0@3 t/1@none');
    expect(events).toContain('assign t/0@3 t/1@6');
    expect(store.writes).toEqual([{ namespace: OFFSETS, entries: { [tpKey(t1)]: '6' } }]);
    expect(consumer.groupCommits).toEqual([{ key: tpKey(t1), offset: 6n }]);
    expect(offsetsOf(task.received, t0)).toEqual(range(3, 10));
    expect(offsetsOf(task.received, t1)).toEqual(range(6, 10));
  });

  it("lands a task's seek before the next poll, so no record of the old position reaches the task afterwards", async () => {
    const { consumer, task, events } = startRunner();
    await waitFor('consumer', () => consumer.connected, { intervalMs: 5 });
    consumer.produce('t', 0, 10);
    let sought = false;
    task.onPut = (records) => {
      if (!sought && records.some((r) => r.offset === 3n)) {
        sought = true;
        task.context.seek(new Map([[tpKey(t0), START_OF_PARTITION]]));
      }
    };
    consumer.rebalance({ kind: 'assigned', partitions: [t0] });
    await waitFor('records after the seek', () => offsetsOf(task.received, t0).filter((o) => o === 0).length === 2 && task.received.length >= 17, {
      intervalMs: 5,
    });
    expect(events).toContain('seek t/0 -2');
    // The first batch 0..6 (the seek was asked for while it was put), then the partition again from its start:
    // a poll before the seek landed would have handed over 7..9 first.
    expect(offsetsOf(task.received, t0)).toEqual([...range(0, 7), ...range(0, 10)]);
  });

  it('a retriable put error pauses every partition and retries the same records until they are taken, then resumes', async () => {
    const { consumer, task, events } = startRunner();
    await waitFor('consumer', () => consumer.connected, { intervalMs: 5 });
    consumer.produce('t', 0, 5);
    consumer.produce('t', 1, 5);
    let failures = 0;
    task.onPut = () => {
      if (failures++ < 2) throw new RetriableError('store unavailable');
    };
    consumer.rebalance({ kind: 'assigned', partitions: [t0, t1] });
    await waitFor('records', () => task.received.length === 10, { timeoutMs: 10_000, intervalMs: 5 });
    expect(task.putBatches[0]).toEqual(task.putBatches[1]);
    expect(task.putBatches[1]).toEqual(task.putBatches[2]);
    expect(events).toContain('pause t/0 t/1');
    expect(events.lastIndexOf('resume t/0 t/1')).toBeGreaterThan(events.indexOf('pause t/0 t/1'));
    expect(offsetsOf(task.received, t0)).toEqual(range(0, 5));
    expect(offsetsOf(task.received, t1)).toEqual(range(0, 5));
  });

  it('a partition paused while a batch is retried, then lost and given back, is consumed again (its pause flag outlives the assignment)', async () => {
    const { consumer, task, events } = startRunner();
    await waitFor('consumer', () => consumer.connected, { intervalMs: 5 });
    consumer.produce('t', 0, 5);
    let failing = true;
    task.onPut = () => {
      if (failing) throw new RetriableError('store unavailable');
    };
    consumer.rebalance({ kind: 'assigned', partitions: [t0] });
    await waitFor('paused for the retry', () => events.includes('pause t/0'), { intervalMs: 5 });
    consumer.rebalance({ kind: 'revoked', partitions: [t0], lost: true });
    consumer.rebalance({ kind: 'assigned', partitions: [t0] });
    failing = false;
    await waitFor('given back', () => events.filter((e) => e.startsWith('assign')).length === 2, { timeoutMs: 10_000, intervalMs: 5 });
    consumer.produce('t', 0, 5);
    await waitFor('records after the new assignment', () => offsetsOf(task.received, t0).includes(9), { timeoutMs: 10_000, intervalMs: 5 });
    expect(consumer.paused.has('t/0')).toBe(false);
  });

  it('keeps partitions the task paused paused when the runner resumes; the task sees its assignment and may resume them', async () => {
    const { consumer, task, events, runner } = startRunner();
    await waitFor('consumer', () => consumer.connected, { intervalMs: 5 });
    consumer.rebalance({ kind: 'assigned', partitions: [t0, t1] });
    await waitFor('assigned', () => task.context.assignment().length === 2, { intervalMs: 5 });
    expect(task.context.assignment()).toEqual([t0, t1]);
    task.context.pause([t0]);
    expect(consumer.paused).toEqual(new Set([tpKey(t0)]));
    runner.pause();
    await waitFor('runner paused all', () => events.includes('pause t/0 t/1'), { intervalMs: 5 });
    runner.resume();
    await waitFor('runner resumed', () => events.includes('resume t/1'), { intervalMs: 5 });
    expect(consumer.paused).toEqual(new Set([tpKey(t0)]));
    consumer.produce('t', 0, 3);
    consumer.produce('t', 1, 3);
    await waitFor('t/1 records', () => task.received.length === 3, { intervalMs: 5 });
    expect(offsetsOf(task.received, t0)).toEqual([]);
    task.context.resume([t0]);
    await waitFor('t/0 records', () => task.received.length === 6, { intervalMs: 5 });
    expect(offsetsOf(task.received, t0)).toEqual(range(0, 3));
  });

  it('a commit the task requests comes before the commit interval', async () => {
    const { consumer, task, store } = startRunner({ commitIntervalMs: 60_000 });
    await waitFor('consumer', () => consumer.connected, { intervalMs: 5 });
    consumer.produce('t', 0, 4);
    consumer.rebalance({ kind: 'assigned', partitions: [t0] });
    await waitFor('records', () => task.received.length === 4, { intervalMs: 5 });
    task.context.requestCommit();
    await waitFor('requested commit', async () => (await store.read(OFFSETS))[tpKey(t0)] === '4', { timeoutMs: 5_000, intervalMs: 5 });
    expect(task.reasons).toEqual(['requested']);
  });

  it('on stop: a final commit, close of every partition, task stop, then the consumer gives its partitions back and disconnects', async () => {
    const { consumer, task, store, events, runner } = startRunner();
    await waitFor('consumer', () => consumer.connected, { intervalMs: 5 });
    consumer.produce('t', 0, 3);
    consumer.rebalance({ kind: 'assigned', partitions: [t0] });
    await waitFor('records', () => task.received.length === 3, { intervalMs: 5 });
    await runner.stop();
    const order = ['preCommit shutdown', 'close revoked t/0', 'unassign', 'disconnect'].map((e) => events.indexOf(e));
    expect(order.every((i) => i > -1)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(task.stopped).toBe(true);
    expect((await store.read(OFFSETS))[tpKey(t0)]).toBe('3');
    expect(runner.status().state).toBe('STOPPED');
  });
});
