import type { RawConfig } from '../api/config-def.js';
import { isRetriable } from '../api/errors.js';
import { failpoint } from '../api/failpoints.js';
import { tpKey, type PartitionOffsets, type SinkRecord, type TopicPartition } from '../api/records.js';
import type { ClosedHow, CommitReason, SinkTask, SinkTaskContext } from '../api/sink.js';
import { namespaces, type CheckpointStore } from '../storage/checkpoint-store.js';
import { Backoff } from '../api/retry.js';
import { OwnedPartitions, partitionsStatus } from './owned-partitions.js';
import { SinkBufferLedger, type SinkBufferShare } from './sink-buffer-ledger.js';
import { storedSinkOffset } from './sink-offsets.js';
import { sinkTaskContext } from './sink-task-context.js';
import { sinkConsumerMembership, type RebalanceEvent, type TaskConsumer, type TaskConsumerFactory } from './task-consumer.js';
import { TaskRunner, type PartitionProgress, type TaskRunnerDeps } from './task-runner.js';

export interface SinkRunnerDeps extends TaskRunnerDeps {
  task: SinkTask;
  config: RawConfig;
  store: CheckpointStore;
  /** The task's consumer (Kafka's in the worker, a fake in unit tests). */
  createConsumer: TaskConsumerFactory;
  commitIntervalMs: number;
  maxPollRecords?: number;
  /** The worker's budget for open buffers, shared by its sink tasks (unlimited when absent, e.g. unit tests). */
  bufferLedger?: SinkBufferLedger;
}

/** How often consumer positions are sampled (a native call per owned partition). */
const POSITION_SAMPLE_MS = 500;
/**
 * Least time between commits a task asked for (e.g. each time a bundle became durable): under load every
 * upload asks, and each commit is an fsync'd write the loop waits for, so asks within this window share one.
 */
const REQUESTED_COMMIT_SPACING_MS = 250;

/**
 * The sink loop: consume, put, and periodically commit exactly the offsets the
 * task reports durable through preCommit — first to the checkpoint store (the
 * source of truth), then mirrored to the consumer group. Rebalances are applied
 * between batches: a revoked partition is committed and closed before it is
 * given up; an assigned one starts at its stored offset.
 */
export class SinkTaskRunner extends TaskRunner {
  private consumer!: TaskConsumer;
  private readonly owned = new OwnedPartitions();
  private readonly rebalances: RebalanceEvent[] = [];
  /** Seeks the task asked for, landed before the next poll. */
  private readonly seeks: PartitionOffsets = new Map();
  private consumerPaused = false;
  private retrying = false;
  private commitRequested = false;
  private flushRequested = false;
  private lastPositionsAt = 0;
  private lastCommitAt = Date.now();
  private closing = false;
  private readonly bufferShare: SinkBufferShare;
  private readonly offsetsNamespace: string;
  private readonly attributes: { connector: string; task: number };

  constructor(private readonly sink: SinkRunnerDeps) {
    const share = (sink.bufferLedger ?? new SinkBufferLedger(Infinity)).join(); // left once the task ended, however (start failing too)
    super({ ...sink, release: async () => (share.leave(), await sink.release?.()) });
    this.bufferShare = share;
    this.offsetsNamespace = namespaces.sinkOffsets(sink.connector);
    this.attributes = { connector: sink.connector, task: sink.taskId };
  }

  protected async run(): Promise<void> {
    const { task, config } = this.sink;
    await task.start(config, this.context());
    this.consumer = this.sink.createConsumer({ ...sinkConsumerMembership(this.sink), onRebalance: (event) => this.onRebalance(event) });
    await this.consumer.connect();
    try {
      await this.loop();
      await this.commit('shutdown');
    } finally {
      this.closing = true;
      await this.closeOwned('revoked').catch((err) => this.sink.log.warn({ err }, 'closing partitions on shutdown failed'));
      await task.stop().catch((err) => this.sink.log.warn({ err }, 'task stop failed'));
      this.consumer.unassign();
      await this.consumer.disconnect();
    }
  }

  private onRebalance(event: RebalanceEvent): void {
    // While shutting down nobody runs the loop; give partitions back at once.
    if (this.closing) return this.consumer.unassign();
    this.rebalances.push(event);
  }

  private async loop(): Promise<void> {
    const backoff = new Backoff();
    let backlog: SinkRecord[] = [];
    while (!this.stopping) {
      await this.applyRebalances();
      const sought = await this.applySeeks();
      // Records held back from before a seek come from the old position.
      if (sought.size > 0) backlog = backlog.filter((r) => !sought.has(tpKey(r)));
      this.syncPause();
      let records: SinkRecord[];
      try {
        records = backlog.length > 0 ? backlog : await this.consumer.consume(this.sink.maxPollRecords ?? 1000);
        backlog = [];
        backoff.reset();
      } catch (err) {
        if (!isRetriable(err)) throw err;
        this.countError('retriable');
        this.sink.log.warn({ err }, 'consume failed; retrying');
        await this.wakeup.sleep(backoff.next());
        continue;
      }
      const mine = this.owned.keepOwned(records);
      if (mine.length > 0) backlog = await this.deliver(mine);
      if (backlog.length === 0) this.samplePositions();
      if (this.bufferShare.asked) await this.sink.task.releaseBuffers?.(); // the worker's buffer budget asks: between puts, never during one
      if (this.flushRequested) await this.commit('flush');
      else if (this.commitRequested && Date.now() - this.lastCommitAt >= REQUESTED_COMMIT_SPACING_MS) await this.commit('requested');
      else if (Date.now() - this.lastCommitAt >= this.sink.commitIntervalMs) await this.commit('interval');
    }
  }

  /**
   * Hands a batch to the task, retrying retriable failures with backoff while
   * every partition is paused (so the consumer keeps its group membership but
   * fetches nothing new). Returns records that still arrived meanwhile.
   */
  private async deliver(records: SinkRecord[]): Promise<SinkRecord[]> {
    const backoff = new Backoff(500, 30_000);
    const arrived: SinkRecord[] = [];
    for (;;) {
      try {
        await this.sink.task.put(records);
        break;
      } catch (err) {
        if (!isRetriable(err)) throw err;
        this.countError('retriable');
        this.sink.log.warn({ err, attempt: backoff.attempts + 1 }, 'put failed; retrying the same records after backoff');
        this.retrying = true;
        this.syncPause();
        const until = Date.now() + backoff.next();
        while (Date.now() < until && !this.stopping) {
          arrived.push(...this.owned.keepOwned(await this.consumer.consume(100).catch(() => [])));
        }
        if (this.stopping) throw err;
      }
    }
    this.retrying = false;
    this.owned.handed(records);
    this.sink.metrics.sinkRecords.add(records.length, this.attributes);
    return arrived;
  }

  private samplePositions(): void {
    const now = Date.now();
    if (now - this.lastPositionsAt < POSITION_SAMPLE_MS) return;
    this.lastPositionsAt = now;
    this.owned.samplePositions(this.consumer.positions(this.owned.topicPartitions()));
  }

  /** Asks the task to make everything consumed so far durable at the next commit (a backup by id waits for it). */
  override requestFlush(): void {
    this.flushRequested = true;
    this.wakeup.notify();
  }

  /** Asks the task what is durable and commits exactly that, never beyond. */
  private async commit(reason: CommitReason): Promise<void> {
    this.commitRequested = false;
    if (reason === 'flush') this.flushRequested = false;
    this.lastCommitAt = Date.now();
    if (this.owned.size === 0) return;
    const started = performance.now();
    let durable: PartitionOffsets;
    try {
      durable = await this.sink.task.preCommit(this.owned.consumed(), reason);
    } catch (err) {
      if (!isRetriable(err)) throw err;
      this.countError('retriable');
      this.sink.log.warn({ err }, 'preCommit failed; offsets stay where they were and the commit is retried');
      return;
    }
    const advancing = this.owned.advancing(durable);
    if (advancing.length === 0) return;
    failpoint('sink.before-commit');
    await this.sink.store.write(this.offsetsNamespace, Object.fromEntries(advancing.map(({ partition, offset }) => [partition.key, offset.toString()])));
    const topics = this.owned.markCommitted(advancing);
    this.consumer.commit(advancing.map(({ partition, offset }) => ({ ...partition.tp, offset })));
    this.sink.activeTopics?.note(topics);
    this.sink.metrics.commits.add(1, this.attributes);
    this.sink.metrics.commitLatency.record((performance.now() - started) / 1000, this.attributes);
  }

  /** Per owned partition: what is committed, what was handed to the task, and how far it is durable. */
  override partitionProgress(): PartitionProgress[] {
    return this.owned.progress((tp) => this.consumer.highWatermark(tp));
  }

  protected override progress(): Record<string, unknown> | undefined {
    return partitionsStatus(this.partitionProgress(), this.sink.task.progress?.());
  }

  override committedOffsets(): { topic: string; partition: number; offset: bigint; highWatermark?: bigint }[] {
    return this.owned.committedOffsets((tp) => this.consumer.highWatermark(tp));
  }

  private async applyRebalances(): Promise<void> {
    while (this.rebalances.length > 0) {
      const event = this.rebalances.shift()!;
      if (event.kind === 'revoked') {
        // A lost assignment may be another consumer's already: nothing is flushed or committed.
        if (!event.lost) await this.commit('revoke');
        await this.closeOwned(event.lost ? 'lost' : 'revoked');
        this.consumer.unassign();
      } else {
        await this.assign(event.partitions);
      }
    }
  }

  private async assign(partitions: TopicPartition[]): Promise<void> {
    const stored = await this.sink.store.read(this.offsetsNamespace);
    const assigned = partitions.map((tp) => ({ ...tp, committed: storedSinkOffset(stored[tpKey(tp)]) }));
    this.sink.log.info({ partitions: partitions.map(tpKey) }, 'partitions assigned');
    const chosen =
      (await this.sink.task.open(assigned.map((a) => ({ ...a, committed: a.committed !== undefined && a.committed >= 0n ? a.committed : undefined })))) ??
      new Map();
    const starts = assigned.map((a) => ({ topic: a.topic, partition: a.partition, offset: chosen.get(tpKey(a)) ?? a.committed }));
    this.consumer.assign(starts);
    // librdkafka keeps a partition's pause flag across assignments (only resume() clears it):
    // one paused for a retried batch, then lost and given back, would stay paused for good.
    const pausedNow = this.paused || this.retrying;
    if (pausedNow) this.consumer.pause(partitions);
    else this.consumer.resume(partitions);
    this.consumerPaused = pausedNow;
    // A start the task chose (e.g. past bundles it found durable after a crash) is what is
    // committed from now on: persist it, so the stored offsets say so before the next record.
    const moved = starts.filter((s): s is typeof s & { offset: bigint } => chosen.has(tpKey(s)) && s.offset !== undefined && s.offset >= 0n);
    if (moved.length > 0) {
      await this.sink.store.write(this.offsetsNamespace, Object.fromEntries(moved.map((s) => [tpKey(s), s.offset.toString()])));
      this.consumer.commit(moved);
    }
    for (const start of starts) this.owned.add(start, start.offset);
  }

  private async closeOwned(how: ClosedHow): Promise<void> {
    const partitions = this.owned.clear();
    if (partitions.length === 0) return;
    if (how === 'lost') {
      this.sink.log.warn({ partitions: partitions.map(tpKey), count: partitions.length }, 'partitions lost');
      this.sink.metrics.partitionsLost.add(partitions.length, this.attributes);
    } else this.sink.log.info({ partitions: partitions.map(tpKey) }, 'partitions revoked');
    await this.sink.task.close(partitions, how);
  }

  /** Seeks the task asked for, landed before the next poll so it returns no record from the old position; returns their partitions. */
  private async applySeeks(): Promise<Set<string>> {
    const sought = new Set(this.seeks.keys());
    if (sought.size === 0) return sought;
    // A seek moves the consumer's position: every sample taken before it is stale.
    this.owned.forgetPositions();
    const landing: Promise<void>[] = [];
    for (const [key, offset] of this.seeks) {
      const partition = this.owned.get(key);
      if (!partition) continue;
      partition.seekTo(offset);
      landing.push(this.consumer.seek(partition.tp, offset).catch((err) => this.sink.log.warn({ err, partition: key }, 'seek failed')));
    }
    this.seeks.clear();
    await Promise.all(landing);
    return sought;
  }

  /** The consumer fetches only while the task runs and is not retrying a batch. */
  private syncPause(): void {
    const shouldPause = this.paused || this.retrying;
    if (shouldPause === this.consumerPaused) return;
    if (shouldPause) this.consumer.pause(this.owned.topicPartitions());
    else this.consumer.resume(this.owned.notPausedByTask());
    this.consumerPaused = shouldPause;
  }

  private countError(kind: string): void {
    this.sink.metrics.taskErrors.add(1, { ...this.attributes, kind });
  }

  private context(): SinkTaskContext {
    return sinkTaskContext(this.sink, this.bufferShare, {
      assignment: () => this.owned.topicPartitions(),
      seek: (offsets) => offsets.forEach((offset, key) => this.seeks.set(key, offset)),
      requestCommit: () => void (this.commitRequested = true),
      pause: (partitions) => {
        this.owned.setPausedByTask(partitions, true);
        this.consumer.pause(partitions);
      },
      resume: (partitions) => {
        this.owned.setPausedByTask(partitions, false);
        if (!this.consumerPaused) this.consumer.resume(partitions);
      },
    });
  }
}
