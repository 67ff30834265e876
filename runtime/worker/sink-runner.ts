import type { RawConfig } from '../api/config-def.js';
import { isRetriable } from '../api/errors.js';
import { failpoint } from '../api/failpoints.js';
import { START_OF_PARTITION, tpKey, type PartitionOffsets, type SinkRecord, type TopicPartition } from '../api/records.js';
import type { ClosedHow, CommitReason, SinkTask, SinkTaskContext } from '../api/sink.js';
import { fingerprint } from '../config/fingerprint.js';
import type { KafkaConnection } from '../kafka/client-config.js';
import { SinkConsumer, type RebalanceEvent } from '../kafka/sink-consumer.js';
import { namespaces, type CheckpointStore } from '../storage/checkpoint-store.js';
import { Backoff } from './backoff.js';
import { taskLogger, taskStateStore } from './task-context.js';
import { TaskRunner, type PartitionProgress, type TaskRunnerDeps } from './task-runner.js';

export interface SinkRunnerDeps extends TaskRunnerDeps {
  task: SinkTask;
  config: RawConfig;
  store: CheckpointStore;
  kafka: KafkaConnection;
  commitIntervalMs: number;
  maxPollRecords?: number;
  consumerOverrides?: Record<string, string>;
}

/** Stored for a partition whose offset was reset: start from the earliest offset, ignoring the consumer group. */
export const EARLIEST = 'earliest';
/** How often consumer positions are sampled (a native call per owned partition). */
const POSITION_SAMPLE_MS = 500;
/**
 * Least time between commits a task asked for (e.g. each time a bundle became
 * durable): under load every upload asks, and each commit is an fsync'd write
 * the loop waits for, so asks within this window share one commit.
 */
const REQUESTED_COMMIT_SPACING_MS = 250;

/** The stored form of a sink offset: the next offset to consume as a decimal string, or EARLIEST. */
export function storedSinkOffset(value: unknown): bigint | undefined {
  if (value === EARLIEST) return START_OF_PARTITION;
  return typeof value === 'string' && /^\d+$/.test(value) ? BigInt(value) : undefined;
}

/**
 * The sink loop: consume, put, and periodically commit exactly the offsets the
 * task reports durable through preCommit — first to the checkpoint store (the
 * source of truth), then mirrored to the consumer group. Rebalances are applied
 * between batches: a revoked partition is committed and closed before it is
 * given up; an assigned one starts at its stored offset.
 */
export class SinkTaskRunner extends TaskRunner {
  private consumer!: SinkConsumer;
  private readonly owned = new Map<string, TopicPartition>();
  private readonly consumed: PartitionOffsets = new Map();
  private readonly committed: PartitionOffsets = new Map();
  private readonly rebalances: RebalanceEvent[] = [];
  private readonly seeks: PartitionOffsets = new Map();
  private consumerPaused = false;
  /** Partitions the task itself paused (e.g. backpressure); they stay paused when the runner resumes. */
  private readonly taskPaused = new Set<string>();
  private retrying = false;
  private commitRequested = false;
  private flushRequested = false;
  /**
   * Consumer positions sampled when every record fetched had been handed to the task:
   * offsets below them that the task never received hold no record (markers, aborted).
   */
  private readonly positions: PartitionOffsets = new Map();
  /** Partitions sought since their last record: the consumer reports the old position until the seek lands. */
  private readonly sought = new Set<string>();
  private lastPositionsAt = 0;
  private lastCommitAt = Date.now();
  private closing = false;

  constructor(private readonly sink: SinkRunnerDeps) {
    super(sink);
  }

  private get offsetsNamespace(): string {
    return namespaces.sinkOffsets(this.sink.connector);
  }

  private get attributes() {
    return { connector: this.sink.connector, task: this.sink.taskId };
  }

  protected async run(): Promise<void> {
    const { task, config, connector, taskId } = this.sink;
    await task.start(config, this.context());
    const topics = (config['topics'] ?? '').split(',').map((t) => t.trim()).filter(Boolean);
    const topicsRegex = config['topics.regex'] || undefined;
    // The broker hands a returning static member its previous assignment without a
    // rebalance, even when its subscription changed; a new subscription is therefore a new member.
    const subscription = fingerprint([[...topics].sort(), topicsRegex ?? null]).slice(0, 8);
    this.consumer = new SinkConsumer({
      connection: this.sink.kafka,
      groupId: `connect-${connector}`,
      clientId: `coldstore-${connector}-${taskId}`,
      groupInstanceId: `${this.sink.workerId}-${connector}-${taskId}-${subscription}`,
      topics,
      topicsRegex,
      overrides: this.sink.consumerOverrides,
      onRebalance: (event) => this.onRebalance(event),
    });
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
    if (this.closing) {
      this.consumer.unassign();
      return;
    }
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
      const mine = records.filter((r) => this.owned.has(tpKey(r)));
      if (mine.length > 0) backlog = await this.deliver(mine);
      if (backlog.length === 0) this.samplePositions();
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
          arrived.push(...(await this.consumer.consume(100).catch(() => [])).filter((r) => this.owned.has(tpKey(r))));
        }
        if (this.stopping) throw err;
      }
    }
    this.retrying = false;
    for (const r of records) {
      this.consumed.set(tpKey(r), r.offset + 1n);
      this.sought.delete(tpKey(r));
    }
    this.sink.metrics.sinkRecords.add(records.length, this.attributes);
    return arrived;
  }

  private samplePositions(): void {
    const now = Date.now();
    if (now - this.lastPositionsAt < POSITION_SAMPLE_MS) return;
    this.lastPositionsAt = now;
    this.positions.clear();
    for (const [key, offset] of this.consumer.positions([...this.owned.values()])) if (!this.sought.has(key)) this.positions.set(key, offset);
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
      durable = await this.sink.task.preCommit(new Map(this.consumed), reason);
    } catch (err) {
      if (!isRetriable(err)) throw err;
      this.countError('retriable');
      this.sink.log.warn({ err }, 'preCommit failed; offsets stay where they were and the commit is retried');
      return;
    }
    const changes: Record<string, string> = {};
    const toGroup: (TopicPartition & { offset: bigint })[] = [];
    for (const [key, offset] of durable) {
      const tp = this.owned.get(key);
      if (!tp || offset <= (this.committed.get(key) ?? -1n)) continue;
      changes[key] = offset.toString();
      toGroup.push({ ...tp, offset });
    }
    if (toGroup.length === 0) return;
    failpoint('sink.before-commit');
    await this.sink.store.write(this.offsetsNamespace, changes);
    for (const tp of toGroup) this.committed.set(tpKey(tp), tp.offset);
    this.consumer.commit(toGroup);
    this.sink.metrics.commits.add(1, this.attributes);
    this.sink.metrics.commitLatency.record((performance.now() - started) / 1000, this.attributes);
  }

  /**
   * Per owned partition: what is committed, what was handed to the task, and the offset
   * below which every record the consumer would deliver is durable (past trailing
   * transaction markers once everything handed over is committed).
   */
  override partitionProgress(): PartitionProgress[] {
    return [...this.owned].map(([key, tp]) => {
      const committed = this.committed.get(key);
      const handed = this.consumed.get(key);
      const position = this.positions.get(key);
      // Nothing handed over yet (only markers or aborted records so far) counts as caught up.
      const caughtUp = handed === undefined || (committed !== undefined && committed >= handed);
      const delivered = position !== undefined && (handed === undefined || position > handed) ? position : handed;
      const durableThrough = caughtUp && position !== undefined && (committed === undefined || position > committed) ? position : committed;
      const highWatermark = this.consumer.highWatermark(tp);
      return {
        ...tp,
        ...(committed !== undefined && committed >= 0n ? { committed } : {}),
        ...(delivered !== undefined && delivered >= 0n ? { delivered } : {}),
        ...(durableThrough !== undefined && durableThrough >= 0n ? { durableThrough } : {}),
        ...(highWatermark !== undefined ? { highWatermark } : {}),
      };
    });
  }

  protected override progress(): Record<string, unknown> | undefined {
    const partitions = this.partitionProgress().map((p) => ({
      topic: p.topic,
      partition: p.partition,
      committed_offset: p.committed === undefined ? null : Number(p.committed),
      end_offset: p.highWatermark === undefined ? null : Number(p.highWatermark),
      lag: p.highWatermark === undefined ? null : Math.max(0, Number(p.highWatermark - (p.durableThrough ?? p.committed ?? 0n))),
    }));
    return partitions.length > 0 ? { partitions } : undefined;
  }

  override committedOffsets(): { topic: string; partition: number; offset: bigint; highWatermark?: bigint }[] {
    return [...this.committed].flatMap(([key, offset]) => {
      const tp = this.owned.get(key);
      if (!tp || offset < 0n) return [];
      const highWatermark = this.consumer.highWatermark(tp);
      return [{ ...tp, offset, ...(highWatermark !== undefined ? { highWatermark } : {}) }];
    });
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
    const chosen = (await this.sink.task.open(assigned.map((a) => ({ ...a, committed: a.committed !== undefined && a.committed >= 0n ? a.committed : undefined })))) ?? new Map();
    const starts = assigned.map((a) => ({ topic: a.topic, partition: a.partition, offset: chosen.get(tpKey(a)) ?? a.committed }));
    this.consumer.assign(starts);
    this.consumerPaused = false;
    // A start the task chose (e.g. past bundles it found durable after a crash) is what is
    // committed from now on: persist it, so the stored offsets say so before the next record.
    const moved = starts.filter((s): s is typeof s & { offset: bigint } => chosen.has(tpKey(s)) && s.offset !== undefined && s.offset >= 0n);
    if (moved.length > 0) {
      await this.sink.store.write(this.offsetsNamespace, Object.fromEntries(moved.map((s) => [tpKey(s), s.offset.toString()])));
      this.consumer.commit(moved);
    }
    for (const tp of starts) {
      const key = tpKey(tp);
      this.owned.set(key, { topic: tp.topic, partition: tp.partition });
      if (tp.offset !== undefined && tp.offset >= 0n) {
        this.consumed.set(key, tp.offset);
        // The task may move the start below what was committed (e.g. a new backup); commits go on from there.
        this.committed.set(key, tp.offset);
      }
    }
  }

  private async closeOwned(how: ClosedHow): Promise<void> {
    const partitions = [...this.owned.values()];
    this.owned.clear();
    this.consumed.clear();
    this.committed.clear();
    this.positions.clear();
    this.sought.clear();
    this.taskPaused.clear();
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
    if (this.seeks.size > 0) this.positions.clear();
    const landing: Promise<void>[] = [];
    for (const [key, offset] of this.seeks) {
      this.sought.add(key);
      const tp = this.owned.get(key);
      if (!tp) continue;
      this.consumed.set(key, offset);
      if (offset >= 0n) this.committed.set(key, offset);
      else this.committed.delete(key);
      landing.push(this.consumer.seek(tp, offset).catch((err) => this.sink.log.warn({ err, partition: key }, 'seek failed')));
    }
    this.seeks.clear();
    await Promise.all(landing);
    return sought;
  }

  /** The consumer fetches only while the task runs and is not retrying a batch. */
  private syncPause(): void {
    const shouldPause = this.paused || this.retrying;
    if (shouldPause === this.consumerPaused) return;
    if (shouldPause) this.consumer.pause([...this.owned.values()]);
    else this.consumer.resume([...this.owned].filter(([key]) => !this.taskPaused.has(key)).map(([, tp]) => tp));
    this.consumerPaused = shouldPause;
  }

  private countError(kind: string): void {
    this.sink.metrics.taskErrors.add(1, { ...this.attributes, kind });
  }

  private context(): SinkTaskContext {
    return {
      connectorName: this.sink.connector,
      taskId: this.sink.taskId,
      log: taskLogger(this.sink.log),
      state: taskStateStore(this.sink.store, namespaces.taskState(this.sink.connector, this.sink.taskId)),
      connectorState: this.sink.connectorState,
      metrics: this.sink.taskMetrics,
      assignment: () => [...this.owned.values()],
      seek: (offsets) => offsets.forEach((offset, key) => this.seeks.set(key, offset)),
      requestCommit: () => {
        this.commitRequested = true;
      },
      pause: (partitions) => {
        partitions.forEach((tp) => this.taskPaused.add(tpKey(tp)));
        this.consumer.pause(partitions);
      },
      resume: (partitions) => {
        partitions.forEach((tp) => this.taskPaused.delete(tpKey(tp)));
        if (!this.consumerPaused) this.consumer.resume(partitions);
      },
    };
  }
}
