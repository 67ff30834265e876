import { createHash } from 'node:crypto';
import { BackupLocation, type Location } from '../../common/backup-location.js';
import type { ObjectStore } from '../../common/object-store/object-store.js';
import type { StreamRef } from '../../layouts/azul/event-fields.js';
import { FORMAT_STREAM_MISSING, FORMAT_STREAM_SPOOL, streamMissingPrefix, streamSpoolPrefix } from '../../layouts/azul/objects.js';
import { MetadataName } from '../../layouts/metadata-names.js';

/** A stream whose download or upload failed, kept in the store until a retry stores it. */
export interface SpooledStream extends StreamRef {
  attempts: number;
  firstFailedAt: string;
  lastError: string;
}

type EntryFormat = typeof FORMAT_STREAM_SPOOL | typeof FORMAT_STREAM_MISSING;

/** The body of a spool or missing-list entry object (docs/formats.md). */
interface SpoolEntryBody extends SpooledStream {
  format: EntryFormat;
}

/** The two lists of streams to ask the dispatcher for again: failed downloads (the spool) and 404s (missing). */
export const STREAM_LISTS = {
  spool: { format: FORMAT_STREAM_SPOOL, prefix: streamSpoolPrefix },
  missing: { format: FORMAT_STREAM_MISSING, prefix: streamMissingPrefix },
} as const;

export interface SpoolOptions {
  store: ObjectStore;
  /** The streams location: the spool lives under its reserved `~coldstore/spool/` prefix. */
  location: Location;
  connector: string;
  /** Which list: `spool` (default) or `missing`. */
  list?: keyof typeof STREAM_LISTS;
  /**
   * Runs one store call with retries; the uploader's, so a store outage blocks the
   * spool exactly as it blocks stream uploads. Without it, errors surface at once.
   */
  withRetries?: <T>(what: string, work: () => Promise<T>) => Promise<T>;
}

/**
 * The spool: one small object per failed stream (or, as the missing list, per stream the
 * dispatcher answered 404) under the connector's spool prefix
 * in the streams location. In the store, not on a worker's disk, so any task of the
 * connector on any worker drains it and a worker that dies for good loses nothing.
 * Two tasks handling one entry is harmless: stream stores are create-if-absent and
 * deleting a missing entry is a no-op.
 */
export class StreamSpool {
  private readonly location: BackupLocation;
  private readonly format: EntryFormat;
  private readonly prefix: string;
  private bucketReady: Promise<void> | undefined;

  constructor(private readonly options: SpoolOptions) {
    this.location = BackupLocation.of(options.location);
    const list = STREAM_LISTS[options.list ?? 'spool'];
    this.format = list.format;
    this.prefix = list.prefix(options.connector);
  }

  /** Where the entries are, for messages: `bucket/prefix`. */
  get description(): string {
    return `${this.location.bucket}/${this.location.key(this.prefix)}`;
  }

  /** Durably records the failure; throws if the store refuses, so the stream's events are not committed. */
  async add(ref: StreamRef, error: string): Promise<void> {
    const key = this.keyOf(ref);
    await this.run(`spool ${this.location.bucket}/${key}`, async () => {
      await this.ensureBucket();
      const previous = await this.read(key);
      const entry: SpoolEntryBody = {
        format: this.format,
        source: ref.source,
        label: ref.label,
        sha256: ref.sha256,
        ...(ref.size === undefined ? {} : { size: ref.size }),
        attempts: (previous?.attempts ?? 0) + 1,
        firstFailedAt: previous?.firstFailedAt ?? new Date().toISOString(),
        lastError: error,
      };
      const body = Buffer.from(JSON.stringify(entry));
      await this.options.store.put(this.location.bucket, key, body, {
        [MetadataName.format]: this.format,
        [MetadataName.bodySha256]: createHash('sha256').update(body).digest('hex'),
      });
    });
  }

  async remove(ref: StreamRef): Promise<void> {
    const key = this.keyOf(ref);
    await this.run(`remove ${this.location.bucket}/${key} from the spool`, () => this.options.store.delete(this.location.bucket, key));
  }

  /** Everything spooled, oldest failures first. Unreadable entries are skipped (a retry rewrites them). */
  async entries(): Promise<SpooledStream[]> {
    return this.run(`list the spool ${this.description}`, async () => {
      await this.ensureBucket();
      const keys: string[] = [];
      for await (const { fullKey } of this.location.list(this.options.store, this.prefix)) {
        if (fullKey.endsWith('.json')) keys.push(fullKey);
      }
      const entries = (await Promise.all(keys.map((key) => this.read(key)))).filter((e) => e !== undefined);
      return entries.sort((a, b) => a.firstFailedAt.localeCompare(b.firstFailedAt));
    });
  }

  /** How many entries there are, without reading them (one listing). */
  async count(): Promise<number> {
    return this.run(`list ${this.description}`, async () => {
      await this.ensureBucket();
      let n = 0;
      for await (const { fullKey } of this.location.list(this.options.store, this.prefix)) if (fullKey.endsWith('.json')) n++;
      return n;
    });
  }

  /** One entry per stream and connector, so two tasks failing on the same stream write the same key. */
  private keyOf(ref: StreamRef): string {
    return this.location.key(`${this.prefix}${ref.sha256}.${ref.source}.${ref.label}.json`);
  }

  private run<T>(what: string, work: () => Promise<T>): Promise<T> {
    return this.options.withRetries ? this.options.withRetries(what, work) : work();
  }

  /** The streams bucket may not exist yet when the first stream of a backup fails. */
  private ensureBucket(): Promise<void> {
    this.bucketReady ??= this.options.store.ensureBucket(this.location.bucket).catch((err: unknown) => {
      this.bucketReady = undefined;
      throw err;
    });
    return this.bucketReady;
  }

  /** The entry at a full key; undefined when absent or not a spool entry. */
  private async read(key: string): Promise<SpooledStream | undefined> {
    const object = await this.options.store.get(this.location.bucket, key);
    if (!object) return undefined;
    try {
      const { format, ...entry } = JSON.parse(object.body.toString('utf8')) as SpoolEntryBody;
      return format === this.format ? entry : undefined;
    } catch {
      return undefined;
    }
  }
}
