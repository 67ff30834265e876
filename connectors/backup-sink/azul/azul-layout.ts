import { ColdstoreError, ErrorCodes, failpoint, type TaskLogger, type TaskMetrics } from '../../../runtime/api/index.js';
import { encodeEventBundle, encodeIndexEntry, encodeRejects, newIndexEntry, splitRange } from '../../layouts/azul/encoder.js';
import { collisionBundleKey, parseAzulTopic, streamKey, type AzulTopic } from '../../layouts/azul/keys.js';
import { azulRangeKeys } from '../../layouts/azul/layout.js';
import type { BundleLayout } from '../bundle-layout.js';
import type { BundleUploader } from '../bundle-uploader.js';
import { KeptRecords, type SealedBundle } from '../partition-writer.js';
import { KeyTurns } from './key-turns.js';
import { azulMetrics } from './metrics.js';
import type { StreamArchiver } from './stream-archiver.js';

export interface AzulLayoutOptions {
  events: BundleUploader;
  archiver: StreamArchiver;
  /** Sources not backed up (exclude_from_backup). */
  excludedSources: ReadonlySet<string>;
  log: TaskLogger;
  metrics: TaskMetrics;
  /** How often spooled streams are tried again (and the lists counted for the status). */
  spoolRetryMs: number;
  /** How often streams the dispatcher answered 404 are asked for again. */
  missingRetryMs: number;
}

/** The azul figures in a BackupSink task's status `progress` (docs/operations.md). */
export interface AzulStreamsProgress {
  /** Entries of the connector's missing list (404 at the dispatcher), as last counted. */
  missing: number | null;
  /** Entries of the connector's spool (downloads that failed), as last counted. */
  spooled: number | null;
  /** Missing streams this task stored since it started, once the dispatcher had them. */
  missing_stored: number;
  /** When the lists were last counted (ISO 8601); null before the first count. */
  counted_at: string | null;
}

/**
 * The azul layout: a range's valid events go, byte-exact, into one gzip'd
 * `Bulk<Model>Event` at the Azul backup service's key; its records that are not
 * valid events (tombstones, undecodable bytes) into a kafka-v1 rejects bundle;
 * the streams its binary events refer to into the streams bucket. An index entry
 * named by the range, written last, proves it all durable (the Azul key carries
 * no offsets). Ranges of identical events make the same bulk, stored once under its
 * Azul key and named by each of their entries; a different bulk wanting a key already
 * taken goes under the collision key, which its bytes name (docs/formats.md). A crash
 * rebuilds the same range, hence the same key and bytes.
 */
export class AzulLayout implements BundleLayout<KeptRecords> {
  readonly ranges = azulRangeKeys;
  private readonly topics = new Map<string, AzulTopic>();
  private readonly keyTurns = new KeyTurns();
  private spoolTimer: NodeJS.Timeout | undefined;
  private missingTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly counts: AzulStreamsProgress = { missing: null, spooled: null, missing_stored: 0, counted_at: null };

  constructor(private readonly options: AzulLayoutOptions) {
    this.scheduleSpoolRetry(0);
    this.scheduleMissingRetry(0);
  }

  private scheduleSpoolRetry(delay: number): void {
    if (this.stopped) return;
    this.spoolTimer = setTimeout(() => {
      this.options.archiver
        .retrySpool()
        .then((left) => left > 0 && this.options.log.info({ spooled: left }, 'streams still waiting in the spool'))
        .catch((err: unknown) => this.options.log.warn({ reason: (err as Error).message }, 'retrying spooled streams failed'))
        .then(() => this.countLists())
        .finally(() => this.scheduleSpoolRetry(this.options.spoolRetryMs));
    }, delay);
  }

  /** A pass when the task starts, then every missingRetryMs: restarting a task asks again at once. */
  private scheduleMissingRetry(delay: number): void {
    if (this.stopped) return;
    this.missingTimer = setTimeout(() => {
      this.options.archiver
        .retryMissing()
        .then((left) => left > 0 && this.options.log.warn({ missing: left }, 'streams the dispatcher still does not have (404); listed in the missing list'))
        .catch((err: unknown) => this.options.log.warn({ reason: (err as Error).message }, 'asking again for missing streams failed'))
        .then(() => this.countLists())
        .finally(() => this.scheduleMissingRetry(this.options.missingRetryMs));
    }, delay);
  }

  private async countLists(): Promise<void> {
    try {
      const [missing, spooled] = await Promise.all([this.options.archiver.countMissing(), this.options.archiver.countSpooled()]);
      Object.assign(this.counts, { missing, spooled, counted_at: new Date().toISOString() });
    } catch (err) {
      this.options.log.warn({ reason: (err as Error).message }, 'counting the missing and spooled streams failed');
    }
  }

  progress(): Record<string, unknown> {
    return { azul_streams: { ...this.counts, missing_stored: this.options.archiver.recovered } };
  }

  failure(): Error | undefined {
    return this.options.archiver.failed;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.spoolTimer);
    clearTimeout(this.missingTimer);
  }

  admits(topic: string): boolean {
    return !this.options.excludedSources.has(this.topicOf(topic).source);
  }

  private topicOf(name: string): AzulTopic {
    let topic = this.topics.get(name);
    if (!topic) {
      topic = parseAzulTopic(name);
      if (!topic) {
        throw new ColdstoreError(
          ErrorCodes.CONFIG_INVALID,
          `Topic ${name} is not an Azul topic (azul.<prefix>.<source>.binary.<action> or azul.<prefix>.system.<model>), so layout azul cannot back it up. Exclude it with topics.exclude.regex, or back it up with a layout=kafka connector.`,
        );
      }
      this.topics.set(name, topic);
    }
    return topic;
  }

  openBundle(): KeptRecords {
    return new KeptRecords();
  }

  async write(bundle: SealedBundle<KeptRecords>, abandoned: () => boolean): Promise<void> {
    const started = performance.now();
    const { events: uploader, archiver, metrics } = this.options;
    const topic = this.topicOf(bundle.topic);
    const split = splitRange(topic.model, bundle.body.records, (record, reason) =>
      this.options.log.warn(
        { topic: bundle.topic, partition: bundle.partition, offset: String(record.offset), reason },
        'not a valid Azul event; kept with the rejects',
      ),
    );
    const encoded = split.last ? encodeEventBundle(topic, split.events, split.last) : undefined;
    // Queued before the first await, so ranges wanting one key take it in offset order.
    const turn = encoded && this.keyTurns.take(encoded.key, `${bundle.topic}/${bundle.partition}`);
    let rawBytes = 0;
    let compressedBytes = 0;
    let outcome = 'created';
    const entry = newIndexEntry(bundle, 0);
    try {
      const unique = [...new Map(split.streams.map((s) => [streamKey(s), s])).values()];
      // Streams first: a range is durable only once every blob its events refer to is stored, listed or spooled.
      await archiver.archive(unique);
      entry.streams = unique.length;
      if (encoded && turn) {
        const body = await uploader.gzip(encoded.body);
        await turn.ready;
        let key = encoded.key;
        let put = await uploader.storeChecked(uploader.location.key(key), body, encoded.metadata, abandoned, 'report');
        if (put === 'conflict') {
          key = collisionBundleKey(key, encoded.sha256);
          put = await uploader.storeChecked(uploader.location.key(key), body, encoded.metadata, abandoned);
        }
        turn.done();
        outcome = put;
        entry.bundle = { key, events: split.events.length, sha256: encoded.sha256 };
        rawBytes += encoded.body.length;
        compressedBytes += body.length;
      }
    } catch (err) {
      turn?.failed(err);
      throw err;
    }
    if (split.rejects.length > 0) {
      const rejects = encodeRejects(bundle, split.rejects);
      const body = await uploader.gzip(rejects.body);
      await uploader.storeChecked(uploader.location.key(rejects.key), body, rejects.metadata, abandoned);
      entry.rejects = { key: rejects.key, records: split.rejects.length, sha256: rejects.sha256 };
      rawBytes += rejects.body.length;
      compressedBytes += body.length;
    }
    failpoint('backup.after-upload');
    const index = encodeIndexEntry(bundle, entry);
    await uploader.storeChecked(uploader.location.key(index.key), index.body, index.metadata, abandoned);
    metrics.add(azulMetrics.events, split.events.length, { source: topic.source, result: 'ok' });
    if (split.rejects.length > 0) metrics.add(azulMetrics.events, split.rejects.length, { source: topic.source, result: 'invalid' });
    uploader.countBundle(bundle, { records: bundle.records, rawBytes, compressedBytes, outcome, started });
  }
}
