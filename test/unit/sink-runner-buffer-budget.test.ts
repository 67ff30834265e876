// sink.buffer.max.bytes through the sink runner: two tasks of one worker share the ledger;
// the idle one holding the largest buffer is asked between its puts (releaseBuffers), and
// the busy one waits for it instead of closing its own small buffers.
import { afterEach, describe, expect, it } from 'vitest';
import { tpKey, type PartitionOffsets, type SinkRecord, type SinkTask, type SinkTaskContext, type TopicPartition } from '../../runtime/api/index.js';
import { SinkBufferLedger } from '../../runtime/worker/sink-buffer-ledger.js';
import { SinkTaskRunner } from '../../runtime/worker/sink-runner.js';
import { FakeConsumer } from '../helpers/fake-consumer.js';
import { MemoryCheckpointStore, runnerDeps } from '../helpers/runner-deps.js';
import { waitFor } from '../helpers/wait.js';

/** Bytes each record holds open in the fake task's buffers. */
const RECORD_BYTES = 10;

/** Buffers RECORD_BYTES per record per partition; closes buffers only when a budget says so. */
class BufferingTask implements SinkTask {
  context!: SinkTaskContext;
  readonly buffers = new Map<string, number>();
  /** Every buffer closed: task name, partition, bytes. */
  readonly closed: string[] = [];
  inPut = false;
  releasesDuringPut = 0;
  releases = 0;

  constructor(
    private readonly name: string,
    private readonly closedLog: string[],
  ) {}

  async start(_config: Record<string, string>, context: SinkTaskContext): Promise<void> {
    this.context = context;
  }
  async open(): Promise<void> {}
  async put(records: SinkRecord[]): Promise<void> {
    this.inPut = true;
    for (const r of records) this.buffers.set(tpKey(r), (this.buffers.get(tpKey(r)) ?? 0) + RECORD_BYTES);
    await this.keepWithinBudget();
    this.inPut = false;
  }
  async releaseBuffers(): Promise<void> {
    this.releases++;
    if (this.inPut) this.releasesDuringPut++;
    await this.keepWithinBudget();
  }
  private async keepWithinBudget(): Promise<void> {
    for (;;) {
      const largestFirst = [...this.buffers].filter(([, bytes]) => bytes > 0).sort((a, b) => b[1] - a[1]);
      const verdict = this.context.bufferBudget.report(largestFirst.map(([, bytes]) => bytes));
      for (const [key, bytes] of largestFirst.slice(0, verdict.close)) {
        this.closedLog.push(`${this.name} ${key} ${bytes}`);
        this.buffers.set(key, 0);
      }
      if (!verdict.settled) return;
      await verdict.settled;
    }
  }
  async preCommit(consumed: PartitionOffsets): Promise<PartitionOffsets> {
    return new Map(consumed);
  }
  async close(_partitions: TopicPartition[]): Promise<void> {}
  async stop(): Promise<void> {}
}

const runners: SinkTaskRunner[] = [];
afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
});

function startTask(name: string, ledger: SinkBufferLedger, closedLog: string[]) {
  const consumer = new FakeConsumer();
  const task = new BufferingTask(name, closedLog);
  const runner = new SinkTaskRunner({
    ...runnerDeps(name),
    task,
    config: { topics: name },
    store: new MemoryCheckpointStore(),
    createConsumer: (opts) => {
      consumer.options = opts;
      return consumer;
    },
    commitIntervalMs: 60_000,
    maxPollRecords: 5,
    bufferLedger: ledger,
  });
  runner.start(false);
  runners.push(runner);
  return { task, consumer };
}

describe('SinkTaskRunner with the worker buffer budget', () => {
  it("asks the idle task, between its puts, to close its large buffer before the busy task's small ones close", async () => {
    const ledger = new SinkBufferLedger(200, 60_000);
    const closed: string[] = [];
    const idle = startTask('idle', ledger, closed);
    const busy = startTask('busy', ledger, closed);
    await waitFor('consumers', () => idle.consumer.connected && busy.consumer.connected, { intervalMs: 5 });

    // The idle task takes 15 records of one partition (150 bytes, under the worker's 200) and then nothing more.
    idle.consumer.produce('idle', 0, 15);
    idle.consumer.rebalance({ kind: 'assigned', partitions: [{ topic: 'idle', partition: 0 }] });
    await waitFor('idle buffered', () => idle.task.buffers.get('idle/0') === 150, { intervalMs: 5 });
    expect(closed).toEqual([]);

    // The busy task spreads 60 records over six partitions: 10 bytes each a put, 100 each in the end.
    for (let p = 0; p < 6; p++) busy.consumer.produce('busy', p, 10);
    busy.consumer.rebalance({ kind: 'assigned', partitions: Array.from({ length: 6 }, (_, p) => ({ topic: 'busy', partition: p })) });
    await waitFor('every busy record', () => [...busy.task.buffers.values()].reduce((a, b) => a + b, 0) + closedBytes(closed, 'busy') === 600, {
      intervalMs: 5,
    });

    // The first buffer closed worker-wide is the idle task's, closed by itself when its runner asked.
    expect(closed[0]).toBe('idle idle/0 150');
    expect(idle.task.releases).toBeGreaterThan(0);
    expect(idle.task.releasesDuringPut + busy.task.releasesDuringPut).toBe(0);
    // The worker's open bytes fit once the busy task's last put returned.
    await waitFor('busy put returned', () => !busy.task.inPut, { intervalMs: 5 });
    expect(ledger.totalBytes).toBeLessThanOrEqual(200);
    expect(ledger.totalBytes).toBeGreaterThan(0);

    // A task that ended holds nothing any more.
    await Promise.all(runners.splice(0).map((r) => r.stop()));
    expect(ledger.totalBytes).toBe(0);
  });
});

function closedBytes(closed: string[], name: string): number {
  return closed.filter((c) => c.startsWith(`${name} `)).reduce((sum, c) => sum + Number(c.split(' ')[2]), 0);
}
