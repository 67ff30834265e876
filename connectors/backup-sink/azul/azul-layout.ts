import { ColdstoreError, ErrorCodes, failpoint, type TaskLogger, type TaskMetrics } from '../../../runtime/api/index.js';
import { encodeEventBundle, encodeIndexEntry, encodeRejects, newIndexEntry, rangeNamedBundleKey, splitRange } from '../../layouts/azul/encoder.js';
import { parseAzulTopic, streamKey, type AzulTopic } from '../../layouts/azul/keys.js';
import { azulRangeKeys } from '../../layouts/azul/layout.js';
import type { BundleLayout } from '../bundle-layout.js';
import type { BundleUploader } from '../bundle-uploader.js';
import type { SealedBundle } from '../partition-writer.js';
import { azulMetrics } from './metrics.js';
import type { StreamArchiver } from './stream-archiver.js';

export interface AzulLayoutOptions {
  events: BundleUploader;
  archiver: StreamArchiver;
  /** Sources not backed up (exclude_from_backup). */
  excludedSources: ReadonlySet<string>;
  log: TaskLogger;
  metrics: TaskMetrics;
  /** How often spooled streams are tried again. */
  spoolRetryMs: number;
}

/**
 * The azul layout: a range's valid events go, byte-exact, into one gzip'd
 * `Bulk<Model>Event` at the Azul backup service's key; its records that are not
 * valid events (tombstones, undecodable bytes) into a kafka-v1 rejects bundle;
 * the streams its binary events refer to into the streams bucket. An index entry
 * named by the range, written last, proves it all durable (the Azul key carries
 * no offsets). A crash rebuilds the same range, hence the same key and bytes.
 */
export class AzulLayout implements BundleLayout {
  readonly ranges = azulRangeKeys;
  private readonly topics = new Map<string, AzulTopic>();
  private spoolTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: AzulLayoutOptions) {
    this.scheduleSpoolRetry(0);
  }

  private scheduleSpoolRetry(delay: number): void {
    if (this.stopped) return;
    this.spoolTimer = setTimeout(() => {
      this.options.archiver
        .retrySpool()
        .then((left) => left > 0 && this.options.log.info({ spooled: left }, 'streams still waiting in the spool'))
        .catch((err: unknown) => this.options.log.warn({ reason: (err as Error).message }, 'retrying spooled streams failed'))
        .finally(() => this.scheduleSpoolRetry(this.options.spoolRetryMs));
    }, delay);
  }

  failure(): Error | undefined {
    return this.options.archiver.failed;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.spoolTimer);
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

  async write(bundle: SealedBundle, abandoned: () => boolean): Promise<void> {
    const started = performance.now();
    const { events: uploader, archiver, metrics } = this.options;
    const topic = this.topicOf(bundle.topic);
    const split = splitRange(topic.model, bundle.records, (record, reason) =>
      this.options.log.warn(
        { topic: bundle.topic, partition: bundle.partition, offset: String(record.offset), reason },
        'not a valid Azul event; kept with the rejects',
      ),
    );
    const unique = [...new Map(split.streams.map((s) => [streamKey(s), s])).values()];
    // Streams first: a range is durable only once every blob its events refer to is stored or spooled.
    await archiver.archive(unique);
    const entry = newIndexEntry(bundle, unique.length);
    let rawBytes = 0;
    let compressedBytes = 0;
    let outcome = 'created';
    if (split.last) {
      const encoded = encodeEventBundle(topic, bundle, split.events, split.last);
      const body = await uploader.gzip(encoded.body);
      let key = encoded.key;
      let put = await uploader.storeChecked(uploader.location.key(key), body, encoded.metadata, abandoned, 'report');
      if (put === 'conflict') {
        key = rangeNamedBundleKey(key, bundle);
        put = await uploader.storeChecked(uploader.location.key(key), body, encoded.metadata, abandoned);
      }
      outcome = put;
      entry.bundle = { key, events: split.events.length, sha256: encoded.sha256 };
      rawBytes += encoded.body.length;
      compressedBytes += body.length;
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
    uploader.countBundle(bundle, { records: bundle.records.length, rawBytes, compressedBytes, outcome, started });
  }
}
