// An azul-layout backup written by the real writer (AzulLayout with BundleUploaders over
// the given store and a StreamArchiver fed by an in-memory dispatcher), for tests that
// read azul backups back (verify, inspect, ls).
import { createHash } from 'node:crypto';
import { AzulLayout } from '../../connectors/backup-sink/azul/azul-layout.js';
import { StreamArchiver, type ArchiverOptions } from '../../connectors/backup-sink/azul/stream-archiver.js';
import { StreamSpool } from '../../connectors/backup-sink/azul/stream-spool.js';
import { BundleUploader } from '../../connectors/backup-sink/bundle-uploader.js';
import type { Location } from '../../connectors/common/backup-location.js';
import type { Dispatcher } from '../../connectors/common/dispatcher/dispatcher.js';
import type { StreamRef } from '../../connectors/layouts/azul/event-fields.js';
import { streamKey } from '../../connectors/layouts/azul/keys.js';
import { azulIndexKey, type AzulIndexEntry } from '../../connectors/layouts/azul/objects.js';
import type { ObjectStore } from '../../connectors/common/object-store/object-store.js';
import type { SinkRecord, TaskLogger, TaskMetrics } from '../../runtime/api/index.js';
import { binaryEvent, vectorEvents } from './azul-vectors.js';
import { sealedKeptBundle } from './sealed-bundle.js';

export const quietLog: TaskLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
export const ignoredMetrics: TaskMetrics = { add: () => undefined, record: () => undefined, set: () => undefined };
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

export const BINARY_TOPIC = 'azul.test.src.binary.sourced';
export const DELETE_TOPIC = 'azul.test.system.delete';
export const SOURCE = 'src';

/** A dispatcher that serves blobs from memory: unknown ones are a 404, and `served` may hold other bytes than the sha256 says. */
export class MemoryDispatcher implements Dispatcher {
  readonly description = 'in-memory dispatcher';
  readonly blobs = new Map<string, Buffer>();
  /** Downloads of these stream keys wait for the promise (to make one range's write slower than another's). */
  readonly holds = new Map<string, Promise<void>>();

  add(label: string, bytes: Buffer): StreamRef {
    const ref = { source: SOURCE, label, sha256: sha256(bytes) };
    this.blobs.set(streamKey(ref), bytes);
    return ref;
  }

  async getStream(ref: StreamRef): Promise<Buffer | undefined> {
    await this.holds.get(streamKey(ref));
    return this.blobs.get(streamKey(ref));
  }

  async hasStream(ref: StreamRef): Promise<boolean> {
    return this.blobs.has(streamKey(ref));
  }

  postStream(): Promise<void> {
    throw new Error('a backup never posts streams');
  }

  postEvents(): Promise<never> {
    throw new Error('a backup never posts events');
  }
}

/**
 * A StreamArchiver with quick, quiet test settings: one attempt per download, a small
 * cache, its spool in the uploader's location under the connector name `fixture`.
 */
export function testArchiver(
  args: { dispatcher: Dispatcher; uploader: BundleUploader } & Partial<Pick<ArchiverOptions, 'maxInFlight' | 'maxInFlightBytes'>>,
): StreamArchiver {
  const { uploader } = args;
  return new StreamArchiver({
    dispatcher: args.dispatcher,
    uploader,
    spool: new StreamSpool({
      store: uploader.store,
      location: uploader.location,
      connector: 'fixture',
      withRetries: (what, work) => uploader.withRetries(what, work),
    }),
    missing: new StreamSpool({
      store: uploader.store,
      location: uploader.location,
      connector: 'fixture',
      list: 'missing',
      withRetries: (what, work) => uploader.withRetries(what, work),
    }),
    cacheSize: 100,
    maxInFlight: args.maxInFlight ?? 4,
    maxInFlightBytes: args.maxInFlightBytes ?? 1 << 20,
    maxConsecutiveFailures: 5,
    attempts: 1,
    retryDelayMs: 1,
    log: quietLog,
    metrics: ignoredMetrics,
    stopped: () => false,
  });
}

export interface WrittenRange {
  /** The index entry's key, relative to the events location. */
  indexKey: string;
  entry: AzulIndexEntry;
}

export interface WrittenAzulFixture {
  /** Every range written, in the order written. */
  ranges: WrittenRange[];
  /** The blobs the dispatcher had, by role. */
  streams: Record<'s1' | 's2' | 's3' | 's4', StreamRef>;
  /** Events written into bundles, and records kept as rejects. */
  events: number;
  rejects: number;
  /** Writes one more range with the same layout and dispatcher. */
  writeRange: (records: SinkRecord[]) => Promise<WrittenRange>;
  /** Stops the layout's spool timer. */
  close: () => void;
}

export const record = (topic: string, partition: number, offset: number, value: Buffer | null): SinkRecord => ({
  topic,
  partition,
  offset: BigInt(offset),
  timestamp: 1_700_000_000_000 + offset,
  timestampType: 'CREATE_TIME',
  key: Buffer.from(`k${offset}`),
  value,
  headers: [],
});

/** A binary event of SOURCE with key `k<n>`, one microsecond after the previous. */
export const binary = (n: number, streams: StreamRef[]) =>
  binaryEvent({
    source: SOURCE,
    kafkaKey: `k${n}`,
    timestampMicros: 1_700_000_000_000_000n + BigInt(n),
    streams: streams.map(({ label, sha256: sha }) => ({ label, sha256: sha })),
  });

/** Writes one range through the layout, as BackupSink does once a bundle is sealed. */
async function writeRange(layout: AzulLayout, events: Location, store: ObjectStore, records: SinkRecord[]): Promise<WrittenRange> {
  const { topic, partition } = records[0]!;
  const start = records[0]!.offset;
  const end = records.at(-1)!.offset;
  await layout.write(sealedKeptBundle(records), () => false);
  const indexKey = azulIndexKey(topic, partition, start, end);
  const stored = await store.get(events.bucket, `${events.prefix}${indexKey}`);
  if (!stored) throw new Error(`${indexKey} was not written`);
  return { indexKey, entry: JSON.parse(stored.body.toString('utf8')) as AzulIndexEntry };
}

/**
 * The backup:
 * - BINARY_TOPIC/0: 0..2 three binary events (streams s1; s2 and s3; s1), 3..5 two events
 *   and a null value (a reject), 6..6 only undecodable bytes (rejects alone), 7..8 two
 *   events (s3);
 * - BINARY_TOPIC/1: 0..1 two events, the second referring to s4 (only there);
 * - DELETE_TOPIC/0: 10..13 Azul's four delete vectors.
 * `extra` ranges are written after, with the same dispatcher (e.g. events whose blob it lacks).
 */
export async function writeAzulFixture(
  store: ObjectStore,
  events: Location,
  streams: Location,
  dispatcher = new MemoryDispatcher(),
): Promise<WrittenAzulFixture> {
  const uploader = (location: Location) =>
    new BundleUploader({ store, location, gzipLevel: 6, permanentErrorRetries: 0, log: quietLog, metrics: ignoredMetrics, stopped: () => false });
  const archiver = testArchiver({ dispatcher, uploader: uploader(streams) });
  const layout = new AzulLayout({
    events: uploader(events),
    archiver,
    excludedSources: new Set(),
    log: quietLog,
    metrics: ignoredMetrics,
    spoolRetryMs: 3_600_000,
    missingRetryMs: 3_600_000,
  });
  const s = {
    s1: dispatcher.add('content', Buffer.from('first blob')),
    s2: dispatcher.add('content', Buffer.from('second blob')),
    s3: dispatcher.add('text', Buffer.from('third blob')),
    s4: dispatcher.add('content', Buffer.from('fourth blob, referred to once')),
  };
  const write = (records: SinkRecord[]) => writeRange(layout, events, store, records);
  const ranges: WrittenRange[] = [];
  ranges.push(
    await write([
      record(BINARY_TOPIC, 0, 0, binary(0, [s.s1])),
      record(BINARY_TOPIC, 0, 1, binary(1, [s.s2, s.s3])),
      record(BINARY_TOPIC, 0, 2, binary(2, [s.s1])),
    ]),
  );
  ranges.push(await write([record(BINARY_TOPIC, 0, 3, binary(3, [s.s2])), record(BINARY_TOPIC, 0, 4, null), record(BINARY_TOPIC, 0, 5, binary(5, []))]));
  ranges.push(await write([record(BINARY_TOPIC, 0, 6, Buffer.from('not an Azul event'))]));
  ranges.push(await write([record(BINARY_TOPIC, 0, 7, binary(7, [s.s3])), record(BINARY_TOPIC, 0, 8, binary(8, [s.s3]))]));
  ranges.push(await write([record(BINARY_TOPIC, 1, 0, binary(100, [])), record(BINARY_TOPIC, 1, 1, binary(101, [s.s4]))]));
  const deletes = vectorEvents('delete');
  ranges.push(await write(deletes.map((v, i) => record(DELETE_TOPIC, 0, 10 + i, v.bytes))));
  return {
    writeRange: write,
    close: () => layout.stop(),
    ranges,
    streams: s,
    events: 3 + 2 + 2 + 2 + deletes.length,
    rejects: 2,
  };
}
