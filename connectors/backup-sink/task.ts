import {
  RetriableError,
  tpKey,
  type AssignedPartition,
  type CommitReason,
  type PartitionOffsets,
  type RawConfig,
  type SinkRecord,
  type SinkTask,
  type SinkTaskContext,
  type TopicPartition,
} from '../../runtime/api/index.js';
import type { ObjectStore } from '../shared/object-store/object-store.js';
import { createObjectStore } from '../shared/object-store/store-config.js';
import { eventsLocation } from '../shared/backup-location.js';
import { createAzulLayout } from './azul/create-azul-layout.js';
import { kafkaLayout, type BundleLayout } from './bundle-layout.js';
import { BundleUploader, PermanentUploadError } from './bundle-uploader.js';
import { backupSinkConfig, type BackupSinkSettings } from './config.js';
import { DurableChain } from './durable-chain.js';
import { IntentLog } from './intents.js';
import { PartitionWriter, type SealedBundle } from './partition-writer.js';
import { planRecovery } from './recovery.js';

/** How long put() waits for an upload slot before handing the batch back (the runtime retries it). */
const BACKPRESSURE_WAIT_MS = 10_000;
/** How long a revocation or shutdown waits for in-flight uploads before committing what is durable. */
const FLUSH_WAIT_MS = 30_000;
/** librdkafka's logical "beginning of the partition" offset. */
const OFFSET_BEGINNING = -2n;

function settleWithin(ms: number, work: Promise<unknown>[]): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([Promise.allSettled(work).then(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, ms)))]).finally(() => clearTimeout(timer));
}

interface PartitionState {
  writer: PartitionWriter;
  chain: DurableChain;
  uploads: Set<Promise<void>>;
  closing: boolean;
}

/**
 * Backs up its partitions into bundles. A bundle's boundaries are written ahead
 * (intents) before its upload; preCommit reports only offsets whose bundles are
 * durable; a partition taken away is never written again by this task.
 */
export class BackupSinkTask implements SinkTask {
  private settings!: BackupSinkSettings;
  private context!: SinkTaskContext;
  private store!: ObjectStore;
  private uploader!: BundleUploader;
  private layout!: BundleLayout;
  private intents!: IntentLog;
  private exclude: RegExp | undefined;
  private readonly partitions = new Map<string, PartitionState>();
  /** Positions of partitions whose topic is excluded: nothing to back up, so consumed is durable. */
  private readonly excluded: PartitionOffsets = new Map();
  private inFlight = 0;
  private slotFreed: (() => void) | undefined;
  private fatal: Error | undefined;
  private stopping = false;

  async start(config: RawConfig, context: SinkTaskContext): Promise<void> {
    this.settings = backupSinkConfig.validate(config).values;
    this.context = context;
    const exclude = this.settings['topics.exclude.regex'];
    this.exclude = exclude ? new RegExp(`^(?:${exclude})$`) : undefined;
    this.intents = new IntentLog(context.connectorState);
    this.store = createObjectStore(this.settings);
    this.uploader = new BundleUploader({
      store: this.store,
      location: eventsLocation(this.settings),
      gzipLevel: this.settings['gzip.level'],
      permanentErrorRetries: this.settings['upload.permanent.error.retries'],
      log: context.log,
      metrics: context.metrics,
      stopped: () => this.stopping,
    });
    this.layout =
      this.settings.layout === 'azul'
        ? createAzulLayout({ settings: this.settings, store: this.store, events: this.uploader, context, stopped: () => this.stopping })
        : kafkaLayout(this.uploader);
  }

  private labelKey(tp: TopicPartition): string {
    return `label/${tpKey(tp)}`;
  }

  async open(partitions: AssignedPartition[]): Promise<PartitionOffsets> {
    const starts: PartitionOffsets = new Map();
    const label = this.settings['backup.label'];
    for (const tp of partitions) {
      if (this.exclude?.test(tp.topic) || !this.layout.admits(tp.topic)) continue;
      // A new label is a new, full backup: the old label's offsets and intents do not apply.
      const previousLabel = await this.context.connectorState.get<string>(this.labelKey(tp));
      const fresh = previousLabel !== undefined && previousLabel !== label;
      if (fresh) await this.intents.forget(tp, (await this.intents.load(tp)).map((i) => i.start));
      const committed = fresh ? undefined : tp.committed;
      const { start, plan } = await planRecovery({
        store: this.store,
        location: eventsLocation(this.settings),
        keys: this.layout.ranges,
        intents: this.intents,
        tp,
        committed,
        log: this.context.log,
        retry: (what, work) => this.uploader.withRetries(what, work),
      });
      const chain = new DurableChain(start);
      for (const range of plan) chain.add(range.start, range.end, range.durable);
      const limits = { maxRecords: this.settings['bundle.max.records'], maxBytes: this.settings['bundle.max.bytes'], maxAgeMs: this.settings['bundle.max.age.ms'] };
      this.partitions.set(tpKey(tp), { writer: new PartitionWriter(tp, limits, start, plan), chain, uploads: new Set(), closing: false });
      await this.context.connectorState.put(this.labelKey(tp), label);
      if (start !== undefined && start !== tp.committed) starts.set(tpKey(tp), start);
      else if (fresh && start === undefined) starts.set(tpKey(tp), OFFSET_BEGINNING);
      if (plan.length > 0) this.context.log.info({ partition: tpKey(tp), ranges: plan.length }, 'resuming with ranges fixed before a restart');
    }
    return starts;
  }

  async put(records: SinkRecord[]): Promise<void> {
    this.throwIfFailed();
    await this.waitForSlot();
    const now = Date.now();
    for (const record of records) {
      const key = tpKey(record);
      const state = this.partitions.get(key);
      if (!state) {
        this.excluded.set(key, record.offset + 1n);
        continue;
      }
      const { sealed, skipped } = state.writer.add(record, now);
      for (const range of skipped) {
        await this.intents.forget(record, [range.start]);
        state.chain.markDone(range.start);
      }
      for (const bundle of sealed) this.launch(state, bundle);
    }
  }

  /**
   * Records the intent, then uploads, both in the background so put() returns to
   * consuming at once; the upload starts only once its intent is durable, and the
   * chain learns when the bundle is.
   */
  private launch(state: PartitionState, bundle: SealedBundle): void {
    state.chain.add(bundle.start, bundle.end);
    this.inFlight++;
    const upload = this.intents
      .record(bundle, { start: bundle.start, end: bundle.end })
      .then(() => this.layout.write(bundle, () => state.closing))
      .then(async () => {
        state.chain.markDone(bundle.start);
        await this.intents.forget(bundle, [bundle.start]);
        this.context.requestCommit();
      })
      .catch((err: unknown) => {
        if (err instanceof PermanentUploadError) this.fatal ??= err;
        else if (!state.closing && !this.stopping) this.fatal ??= err as Error;
        // Otherwise the partition was given up: the intent stays and its next owner rebuilds the bundle.
      })
      .finally(() => {
        this.inFlight--;
        state.uploads.delete(upload);
        this.slotFreed?.();
      });
    state.uploads.add(upload);
  }

  private async waitForSlot(): Promise<void> {
    const deadline = Date.now() + BACKPRESSURE_WAIT_MS;
    while (this.inFlight >= this.settings['upload.max.in.flight']) {
      const left = deadline - Date.now();
      if (left <= 0) throw new RetriableError(`${this.inFlight} bundle uploads still in flight; waiting for the store before taking more records`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.slotFreed = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.throwIfFailed();
    }
  }

  private throwIfFailed(): void {
    this.fatal ??= this.layout.failure();
    if (this.fatal) throw this.fatal;
  }

  async preCommit(_consumed: PartitionOffsets, reason: CommitReason): Promise<PartitionOffsets> {
    this.throwIfFailed();
    const now = Date.now();
    const flushAll = reason === 'revoke' || reason === 'shutdown';
    const sealAll = flushAll || reason === 'flush';
    for (const state of this.partitions.values()) {
      const sealed = sealAll ? state.writer.sealBuffered() : [state.writer.sealIfAged(now)].filter((b) => b !== undefined);
      for (const bundle of sealed) this.launch(state, bundle);
    }
    // Before giving partitions up, let their uploads finish, but not forever: what is not
    // durable by then stays behind its intent and the next owner rebuilds it.
    if (flushAll) await settleWithin(FLUSH_WAIT_MS, [...this.partitions.values()].flatMap((s) => [...s.uploads]));
    this.throwIfFailed();
    const durable: PartitionOffsets = new Map(this.excluded);
    for (const [key, state] of this.partitions) {
      const position = state.chain.durablePosition;
      if (position !== undefined) durable.set(key, position);
    }
    return durable;
  }

  async close(partitions: TopicPartition[]): Promise<void> {
    const closing = partitions.map((tp) => this.partitions.get(tpKey(tp))).filter((s) => s !== undefined);
    for (const state of closing) state.closing = true;
    await settleWithin(FLUSH_WAIT_MS, closing.flatMap((s) => [...s.uploads]));
    for (const tp of partitions) {
      this.partitions.delete(tpKey(tp));
      this.excluded.delete(tpKey(tp));
      this.intents.release(tp);
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.layout?.stop();
    this.slotFreed?.();
    await Promise.all([...this.partitions.values()].flatMap((s) => [...s.uploads]));
  }
}
