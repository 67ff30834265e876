import { createHash } from 'node:crypto';
import { ColdstoreError, ErrorCodes, failpoint, type SinkRecord, type TaskLogger, type TaskMetrics } from '../../../runtime/api/index.js';
import { assembleBulk } from '../../layouts/azul/bulk.js';
import { InvalidEventError, readEventFields, type EventFields, type StreamRef } from '../../layouts/azul/event-fields.js';
import { azulBundleKey, parseAzulTopic, streamKey, type AzulTopic } from '../../layouts/azul/keys.js';
import { AZUL_REJECTS_PREFIX, azulBundleMetadata, azulIndexKey, FORMAT_AZUL_INDEX, type AzulIndexEntry } from '../../layouts/azul/objects.js';
import { AZUL_MODEL_VERSION } from '../../layouts/azul/registry.js';
import { encodeKafkaBundle } from '../../layouts/kafka-v1/bundle-codec.js';
import { kafkaBundleKey } from '../../layouts/kafka-v1/bundle-keys.js';
import { azulRangeKeys } from '../../layouts/azul/layout.js';
import type { BundleLayout } from '../bundle-layout.js';
import type { BundleUploader } from '../bundle-uploader.js';
import type { SealedBundle } from '../partition-writer.js';
import { azulMetrics } from './metrics.js';
import type { StreamArchiver } from './stream-archiver.js';
import { MetadataName } from '../../layouts/metadata-names.js';

const sha256 = (body: Buffer) => createHash('sha256').update(body).digest('hex');

interface Split {
  events: Buffer[];
  last: EventFields | undefined;
  streams: StreamRef[];
  rejects: SinkRecord[];
}

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

  private split(topic: AzulTopic, bundle: SealedBundle): Split {
    const out: Split = { events: [], last: undefined, streams: [], rejects: [] };
    for (const record of bundle.records) {
      if (!record.value) {
        out.rejects.push(record);
        continue;
      }
      try {
        const fields = readEventFields(topic.model, record.value);
        out.events.push(record.value);
        out.last = fields;
        out.streams.push(...fields.streams);
      } catch (err) {
        if (!(err instanceof InvalidEventError)) throw err;
        this.options.log.warn({ topic: bundle.topic, partition: bundle.partition, offset: String(record.offset), reason: err.message }, 'not a valid Azul event; kept with the rejects');
        out.rejects.push(record);
      }
    }
    return out;
  }

  async write(bundle: SealedBundle, abandoned: () => boolean): Promise<void> {
    const started = performance.now();
    const { events: uploader, archiver, metrics } = this.options;
    const topic = this.topicOf(bundle.topic);
    const split = this.split(topic, bundle);
    const unique = [...new Map(split.streams.map((s) => [streamKey(s), s])).values()];
    // Streams first: a range is durable only once every blob its events refer to is stored or spooled.
    await archiver.archive(unique);
    const entry: AzulIndexEntry = { format: FORMAT_AZUL_INDEX, topic: bundle.topic, partition: bundle.partition, start: String(bundle.start), end: String(bundle.end), streams: unique.length };
    let rawBytes = 0;
    let compressedBytes = 0;
    let outcome = 'created';
    if (split.last) {
      const bulk = assembleBulk(AZUL_MODEL_VERSION, split.events);
      const body = await uploader.gzip(bulk);
      const digest = sha256(bulk);
      const metadata = azulBundleMetadata({ ...bundle, events: split.events.length, sha256: digest });
      let key = azulBundleKey(topic, split.last.timestampMicros, split.events.length, split.last.kafkaKey);
      let put = await uploader.storeChecked(uploader.location.key(key), body, metadata, abandoned, 'report');
      if (put === 'conflict') {
        // Another range ended with the same event, count and timestamp (a re-sent event): keep both, this one under a key naming its range.
        key = `${key}~${bundle.topic}-${bundle.partition}-${bundle.start}`;
        put = await uploader.storeChecked(uploader.location.key(key), body, metadata, abandoned);
      }
      outcome = put;
      entry.bundle = { key, events: split.events.length, sha256: digest };
      rawBytes += bulk.length;
      compressedBytes += body.length;
    }
    if (split.rejects.length > 0) {
      // A plain kafka-v1 bundle under a prefix: every tool that reads bundles reads it by its usual key.
      const kafkaKey = kafkaBundleKey(bundle.topic, bundle.partition, bundle.start, bundle.end);
      const key = `${AZUL_REJECTS_PREFIX}${kafkaKey}`;
      const { container, metadata } = encodeKafkaBundle(kafkaKey, bundle.start, bundle.end, split.rejects);
      const body = await uploader.gzip(container);
      await uploader.storeChecked(uploader.location.key(key), body, metadata, abandoned);
      entry.rejects = { key, records: split.rejects.length, sha256: metadata[MetadataName.bodySha256]! };
      rawBytes += container.length;
      compressedBytes += body.length;
    }
    failpoint('backup.after-upload');
    const index = Buffer.from(JSON.stringify(entry));
    const indexMetadata = { [MetadataName.format]: FORMAT_AZUL_INDEX, [MetadataName.bodySha256]: sha256(index), [MetadataName.rangeStart]: String(bundle.start), [MetadataName.rangeEnd]: String(bundle.end) };
    await uploader.storeChecked(uploader.location.key(azulIndexKey(bundle.topic, bundle.partition, bundle.start, bundle.end)), index, indexMetadata, abandoned);
    metrics.add(azulMetrics.events, split.events.length, { source: topic.source, result: 'ok' });
    if (split.rejects.length > 0) metrics.add(azulMetrics.events, split.rejects.length, { source: topic.source, result: 'invalid' });
    uploader.countBundle(bundle, { records: bundle.records.length, rawBytes, compressedBytes, outcome, started });
  }
}
