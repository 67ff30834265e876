/**
 * Shared by the azul fault suites (azul-backup-faults.test.ts, cluster-azul.test.ts,
 * azul-resent-faults.test.ts): Azul events and the blobs they refer to, the dispatcher
 * double's failure helpers and the azul BackupSink config. The coverage checker that
 * proves events, rejects and blobs exactly once is in azul-proof.ts (re-exported here).
 */
import { randomBytes } from 'node:crypto';
import { streamSpoolPrefix } from '../../connectors/layouts/azul/objects.js';
import { type OutgoingRecord } from '../../runtime/kafka/producer.js';
import { sha256 } from '../helpers/azul-backup.js';
import { binaryEvent } from '../helpers/azul-vectors.js';
import { type DispatcherDouble } from '../helpers/dispatcher-double.js';
import { s3Settings } from '../helpers/s3.js';
import { GARBAGE, type BucketReader, type TopicSpec } from './azul-proof.js';
import { randomInt } from './fault-kit.js';

export {
  addLosses,
  checkBackup,
  GARBAGE,
  isEvent,
  localReader,
  proveAzulBackup,
  s3Reader,
  type AzulReport,
  type BucketReader,
  type Losses,
  type TopicSpec,
} from './azul-proof.js';

export const LABEL = 'content';
export const BASE_MICROS = 1_717_200_000_000_000n;
export const streamsPath = (source: string) => new RegExp(`^/api/v3/stream/${source}/`);
export const shaPath = (...shas: string[]) => new RegExp(`/(${shas.join('|')})$`);
export const CONFLICT = /Conflict: |already exists with different content/;

/** The spool entries (`<sha256>.<source>.<label>.json`) a connector has in the streams bucket; none while the bucket does not exist. */
export function spoolEntries(reader: BucketReader, label: string, connector: string): Promise<string[]> {
  return reader.keys(`coldstore-${label}-streams`, streamSpoolPrefix(connector)).catch(() => []);
}

/** Azul events of one source, each with its own kafka_key and timestamp, and the blobs they refer to. */
export class EventMaker {
  private count = 0;
  /** Stream keys (`source/label/sha256`) the events refer to. */
  readonly referenced = new Set<string>();

  constructor(
    private readonly double: DispatcherDouble,
    readonly source: string,
  ) {}

  /** A blob the dispatcher serves; its sha256. */
  blob(bytes: Buffer = randomBytes(randomInt(500, 6000))): string {
    return this.double.addStream(this.source, LABEL, bytes);
  }

  /** The sha256 of a blob the dispatcher does not have (404). */
  missing(): string {
    return sha256(randomBytes(32));
  }

  event(shas: readonly string[]): Buffer {
    const i = this.count++;
    for (const sha of shas) this.referenced.add(`${this.source}/${LABEL}/${sha}`);
    return binaryEvent({
      source: this.source,
      kafkaKey: `${this.source}-${i}`,
      timestampMicros: BASE_MICROS + BigInt(i) * 1000n,
      streams: shas.map((sha) => ({ label: LABEL, sha256: sha })),
    });
  }

  /** What the streams bucket must hold: every referenced blob the dispatcher has. */
  expectedBlobs(): Map<string, Buffer> {
    return new Map([...this.referenced].flatMap((key) => (this.double.streams.has(key) ? [[key, this.double.streams.get(key)!] as const] : [])));
  }
}

/** A record that is not a valid Azul event: a tombstone or bytes that are not Avro. */
export function invalidRecord(topic: string, partition: number, i: number): OutgoingRecord {
  const value = i % 2 === 0 ? null : Buffer.concat([GARBAGE, Buffer.from(`${topic}/${partition}/${i}`)]);
  return { topic, partition, key: Buffer.from(`invalid-${i}`), value };
}

export const binaryTopic = (prefix: string, source: string, partitions: number): TopicSpec => ({
  name: `azul.${prefix}.${source}.binary.sourced`,
  partitions,
  model: 'binary',
  bundlePrefix: `${source}/binary/sourced/`,
});

/** A BackupSink with layout azul on one label, reading the topics of one prefix. */
export function azulConnector(args: { prefix: string; label: string; dispatcher: DispatcherDouble; extra?: Record<string, string> }): Record<string, string> {
  return {
    'connector.class': 'BackupSink',
    'topics.regex': `azul\\.${args.prefix}\\..*`,
    layout: 'azul',
    'backup.label': args.label,
    'dispatcher.url': args.dispatcher.url,
    'bundle.max.records': '10',
    'bundle.max.age.ms': '400',
    'streams.spool.retry.ms': '500',
    'gzip.level': '1',
    ...s3Settings(),
    ...args.extra,
  };
}
