import {
  failpoint,
  START_OF_PARTITION,
  tpKey,
  type ClosedHow,
  type AssignedPartition,
  type CommitReason,
  type PartitionOffsets,
  type RawConfig,
  type SinkRecord,
  type SinkTask,
  type SinkTaskContext,
  type TopicPartition,
} from '../../runtime/api/index.js';
import type { ObjectStore } from '../common/object-store/object-store.js';
import { createObjectStore } from '../common/object-store/store-config.js';
import { eventsLocation } from '../common/backup-location.js';
import { createAzulLayout } from './azul/create-azul-layout.js';
import { kafkaLayout, type BundleLayout } from './bundle-layout.js';
import { BundleUploader, PermanentUploadError } from './bundle-uploader.js';
import { backupSinkConfig, type BackupSinkSettings } from './config.js';
import { newPartitionState, type PartitionState } from './partition-state.js';
import type { SealedBundle } from './partition-writer.js';
import { RangeClaims } from './range-claims.js';
import { OpenBytesBudgets } from './open-bytes-budget.js';
import { settleWithin, UploadSlots } from './upload-slots.js';
import { forgetPartitionState, planRecovery, saveAnchor } from './recovery.js';

/** How long put() waits for an upload slot before handing the batch back (the runtime retries it). */
const BACKPRESSURE_WAIT_MS = 10_000;
/** How long a revocation or shutdown waits for in-flight uploads before committing what is durable. */
const FLUSH_WAIT_MS = 30_000;

const labelKey = (tp: TopicPartition) => `label/${tpKey(tp)}`;

/**
 * Backs up its partitions into bundles. A bundle's range is claimed in the store
 * before its upload, so every writer of a partition cuts it the same way;
 * preCommit reports only offsets whose bundles are durable; a partition taken
 * away is never written again by this task.
 */
export class BackupSinkTask implements SinkTask {
  private settings!: BackupSinkSettings;
  private context!: SinkTaskContext;
  private store!: ObjectStore;
  private uploader!: BundleUploader;
  private layout!: BundleLayout;
  private claims!: RangeClaims;
  private exclude: RegExp | undefined;
  private readonly partitions = new Map<string, PartitionState>();
  /** Positions of partitions whose topic is excluded: nothing to back up, so consumed is durable. */
  private readonly excluded: PartitionOffsets = new Map();
  /** Partitions whose claim another writer got first, to plan again from the store. */
  private readonly resyncs = new Set<string>();
  private slots!: UploadSlots;
  private budgets!: OpenBytesBudgets;
  private fatal: Error | undefined;
  private stopping = false;

  async start(config: RawConfig, context: SinkTaskContext): Promise<void> {
    this.settings = backupSinkConfig.validate(config).values;
    this.context = context;
    this.slots = new UploadSlots(this.settings['upload.max.in.flight'], BACKPRESSURE_WAIT_MS);
    this.budgets = new OpenBytesBudgets(this.settings['bundle.open.max.bytes'], context.bufferBudget, (state, bundle) => this.launch(state, bundle));
    const exclude = this.settings['topics.exclude.regex'];
    this.exclude = exclude ? new RegExp(`^(?:${exclude})$`) : undefined;
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
    this.claims = new RangeClaims(this.uploader);
    this.layout =
      this.settings.layout === 'azul'
        ? createAzulLayout({ settings: this.settings, raw: config, store: this.store, events: this.uploader, context, stopped: () => this.stopping })
        : kafkaLayout(this.uploader);
  }

  async open(partitions: AssignedPartition[]): Promise<PartitionOffsets> {
    const starts: PartitionOffsets = new Map();
    const label = this.settings['backup.label'];
    for (const tp of partitions) {
      if (this.exclude?.test(tp.topic) || !this.layout.admits(tp.topic)) continue;
      // A new label is a new, full backup: the old label's offsets and anchors do not apply.
      const previousLabel = await this.context.connectorState.get<string>(labelKey(tp));
      const fresh = previousLabel !== undefined && previousLabel !== label;
      if (fresh) await forgetPartitionState(this.context.connectorState, tp);
      const start = await this.openPartition(tp, fresh ? undefined : tp.committed);
      await this.context.connectorState.put(labelKey(tp), label);
      if (start !== undefined && start !== tp.committed) starts.set(tpKey(tp), start);
      else if (fresh && start === undefined) starts.set(tpKey(tp), START_OF_PARTITION);
    }
    return starts;
  }

  /** Plans the partition from the store and gives it a new state; returns where reading starts. */
  private async openPartition(tp: TopicPartition, committed: bigint | undefined, uploads = new Set<Promise<void>>()): Promise<bigint | undefined> {
    const { start, plan, anchored, anchor } = await planRecovery({
      store: this.store,
      location: eventsLocation(this.settings),
      keys: this.layout.ranges,
      claims: this.claims,
      state: this.context.connectorState,
      tp,
      committed,
      log: this.context.log,
      retry: (what, work) => this.uploader.withRetries(what, work),
    });
    const limits = {
      maxRecords: this.settings['bundle.max.records'],
      maxBytes: this.settings['bundle.max.bytes'],
      maxAgeMs: this.settings['bundle.max.age.ms'],
    };
    this.partitions.set(
      tpKey(tp),
      newPartitionState(tp, limits, { start, plan, anchored, anchor }, uploads, (expectedBytes) => this.layout.openBundle(expectedBytes)),
    );
    if (plan.length > 0) this.context.log.info({ partition: tpKey(tp), ranges: plan.length }, 'resuming with ranges fixed earlier');
    return start;
  }

  /**
   * Plans again, from the store, the partitions whose claim another writer got first,
   * and asks the runtime to read them again from where the store says. Only from
   * preCommit: the runtime lands the seek before it polls again, so put() never gets
   * a record of the old position once the new state exists (until then, a fenced
   * partition's records are dropped).
   */
  private async resyncFenced(): Promise<void> {
    for (const key of [...this.resyncs]) {
      this.resyncs.delete(key);
      const state = this.partitions.get(key);
      if (!state?.fenced || state.closing) continue;
      const start = await this.openPartition(state.tp, undefined, state.uploads);
      this.context.seek(new Map([[key, start ?? START_OF_PARTITION]]));
    }
  }

  async put(records: SinkRecord[]): Promise<void> {
    this.throwIfFailed();
    await this.slots.waitForOne(() => this.throwIfFailed());
    const now = Date.now();
    // A poll's records come in runs of one partition: its state is looked up once per run.
    let state: PartitionState | undefined;
    for (const record of records) {
      if (!state || record.partition !== state.tp.partition || record.topic !== state.tp.topic) {
        const key = tpKey(record);
        state = this.partitions.get(key);
        if (!state) {
          this.excluded.set(key, record.offset + 1n);
          continue;
        }
      }
      if (state.fenced) continue;
      const { sealed, skipped } = state.writer.add(record, now);
      for (const range of skipped) state.chain.markDone(range.start);
      for (const bundle of sealed) this.launch(state, bundle);
    }
    await this.releaseBuffers();
  }

  /** After each put, and when the worker's buffer budget asks: closes the bundles either budget says, the largest first. */
  releaseBuffers(): Promise<void> {
    return this.budgets.keepWithin(() => this.partitions.values());
  }

  /**
   * Claims the bundle's range, then uploads it, both in the background so put() returns
   * to consuming at once. Claims of a partition go in offset order, each after the one
   * before was granted; the upload starts once its claim is; the chain learns when the
   * bundle is durable. A refused claim fences the partition's state.
   */
  private launch(state: PartitionState, bundle: SealedBundle): void {
    state.chain.add(bundle.start, bundle.end);
    this.slots.take();
    const first = !state.anchored;
    state.anchored = true;
    const abandoned = () => state.closing;
    const claim = state.claimed.then(async (granted) => {
      if (!granted || state.closing || state.fenced) return false;
      const outcome = await this.claims.claim(bundle, first, abandoned);
      if (!outcome.granted) this.fence(state, bundle, outcome.theirs);
      return outcome.granted;
    });
    state.claimed = claim.catch(() => false);
    const upload = claim
      .then(async (granted) => {
        if (!granted) return;
        failpoint('backup.after-claim');
        await this.layout.write(bundle, abandoned);
        state.chain.markDone(bundle.start);
        this.context.requestCommit();
      })
      .catch((err: unknown) => {
        if (err instanceof PermanentUploadError) this.fatal ??= err;
        else if (!state.closing && !this.stopping) this.fatal ??= err as Error;
        // Otherwise the partition was given up: its claim stays and its next owner rebuilds the range.
      })
      .finally(() => {
        state.uploads.delete(upload);
        this.slots.release();
      });
    state.uploads.add(upload);
  }

  private fence(state: PartitionState, bundle: SealedBundle, theirs: string): void {
    if (state.fenced) return;
    state.fenced = true;
    this.resyncs.add(tpKey(state.tp));
    this.context.log.warn(
      { partition: tpKey(state.tp), start: String(bundle.start), end: String(bundle.end), theirs },
      'range claimed by another writer; following its cut',
    );
    this.context.requestCommit();
  }

  private throwIfFailed(): void {
    this.fatal ??= this.layout.failure();
    if (this.fatal) throw this.fatal;
  }

  async preCommit(_consumed: PartitionOffsets, reason: CommitReason): Promise<PartitionOffsets> {
    this.throwIfFailed();
    const flushAll = reason === 'revoke' || reason === 'shutdown';
    if (!flushAll) await this.resyncFenced();
    const now = Date.now();
    const sealAll = flushAll || reason === 'flush';
    for (const state of this.partitions.values()) {
      if (state.fenced) continue;
      const sealed = sealAll ? state.writer.sealBuffered() : [state.writer.sealIfAged(now)].filter((b) => b !== undefined);
      for (const bundle of sealed) this.launch(state, bundle);
    }
    void this.budgets.report(this.partitions.values());
    // Before giving partitions up, let their uploads finish, but not forever: what is not
    // durable by then stays behind its claim and the next owner rebuilds it.
    if (flushAll)
      await settleWithin(
        FLUSH_WAIT_MS,
        [...this.partitions.values()].flatMap((s) => [...s.uploads]),
      );
    this.throwIfFailed();
    const durable: PartitionOffsets = new Map(this.excluded);
    for (const [key, state] of this.partitions) {
      const position = state.chain.durablePosition;
      if (position !== undefined) durable.set(key, position);
    }
    await this.saveAnchors();
    return durable;
  }

  /** Saved before the offsets they precede are committed, so an anchor never points past the committed offset's range. */
  private async saveAnchors(): Promise<void> {
    const saving: Promise<void>[] = [];
    for (const state of this.partitions.values()) {
      const anchor = state.chain.lastDurableStart;
      if (anchor === undefined || anchor === state.savedAnchor) continue;
      // Concurrent writes share one checkpoint file replacement (group commit).
      saving.push(saveAnchor(this.context.connectorState, state.tp, anchor).then(() => void (state.savedAnchor = anchor)));
    }
    await Promise.all(saving);
  }

  /**
   * Revoked partitions get up to FLUSH_WAIT_MS for their uploads. Lost ones (another
   * consumer may own them already) get nothing more: what is buffered is dropped, and
   * uploads in flight stop retrying; each was claimed, so the new owner writes the same range.
   */
  async close(partitions: TopicPartition[], how: ClosedHow = 'revoked'): Promise<void> {
    const closing = partitions.map((tp) => this.partitions.get(tpKey(tp))).filter((s) => s !== undefined);
    for (const state of closing) state.closing = true;
    if (how === 'revoked')
      await settleWithin(
        FLUSH_WAIT_MS,
        closing.flatMap((s) => [...s.uploads]),
      );
    for (const tp of partitions) {
      this.partitions.delete(tpKey(tp));
      this.excluded.delete(tpKey(tp));
      this.resyncs.delete(tpKey(tp));
    }
    void this.budgets.report(this.partitions.values());
  }

  /** The layout's figures (azul: missing and spooled streams); the runtime adds the partitions. */
  progress(): Record<string, unknown> | undefined {
    return this.layout?.progress?.();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.layout?.stop();
    this.slots?.wake();
    await Promise.all([...this.partitions.values()].flatMap((s) => [...s.uploads]));
  }
}
