/**
 * Backup baseline (child process): a plain KafkaConsumer of the same client, with the
 * same settings as the sink's consumer (runtime/kafka/sink-consumer.ts) and the same
 * batch size and poll timeout as the sink loop (runtime/worker/sink-runner.ts: consume
 * up to 1000 records, 200 ms), that reads the whole topic and discards it.
 *
 * The plain consumer polls with the client's stock consume (an object per message: what
 * any consumer of this client gets). With `gzipLevel` it is the floor instead: it polls
 * with the patched client's packed consume, as the sink does, and each polled batch is
 * also gzipped with coldstore's codec at that level (floor-compression.ts); its clock
 * stops only once the last batch is compressed.
 *
 * Input (argv[2], JSON): ConsumerInput. Prints `RESULT <json>` (ConsumerResult).
 */
import { randomUUID } from 'node:crypto';
import KafkaLib from '@confluentinc/kafka-javascript';
import { BatchCompressor, type FloorCompression } from './floor-compression.js';
import { cpuSeconds, statusBytes } from './proc.js';
import { SINK_CONSUMER_SETTINGS } from '../../runtime/kafka/sink-consumer.js';
import { boundPollTime } from '../../runtime/kafka/poll-timing.js';

export interface ConsumerInput {
  bootstrap: string;
  topic: string;
  /** End offset of each partition: the consumer stops once it has read up to all of them. */
  ends: number[];
  maxRecords: number;
  pollTimeoutMs: number;
  /** Makes this run the floor: gzip every polled batch at this level. */
  gzipLevel?: number;
}

export interface ConsumerResult {
  seconds: number;
  /** From the start until the first batch of records arrived (connect, group join, first fetch). */
  firstRecordSeconds: number;
  records: number;
  bytes: number;
  peakRssBytes: number;
  cpuSeconds: number;
  /** The floor's compression (absent for the plain consumer). */
  compression?: FloorCompression;
}

const input = JSON.parse(process.argv[2]!) as ConsumerInput;
const { KafkaConsumer } = KafkaLib;
const id = randomUUID().slice(0, 8);
const cpuBefore = cpuSeconds(process.pid) ?? 0;

const compressor = input.gzipLevel === undefined ? undefined : new BatchCompressor(input.gzipLevel);
const started = performance.now();
const consumer = new KafkaConsumer(
  {
    'bootstrap.servers': input.bootstrap,
    'client.id': `coldstore-bench-baseline-${id}`,
    'group.id': `coldstore-bench-baseline-${id}`,
    'group.instance.id': `coldstore-bench-baseline-${id}`,
    ...SINK_CONSUMER_SETTINGS,
  },
  { 'auto.offset.reset': 'earliest' },
);
await new Promise<void>((resolve, reject) => consumer.connect({ timeout: 30_000 }, (err) => (err ? reject(err) : resolve())));
boundPollTime(consumer, input.pollTimeoutMs);
consumer.subscribe([input.topic]);

const next = input.ends.map(() => 0);
let records = 0;
let bytes = 0;
let firstRecordSeconds = Number.NaN;
const done = () => next.every((n, p) => n >= input.ends[p]!);
const seen = (partition: number, offset: number, keyAndValueBytes: number) => {
  records++;
  bytes += keyAndValueBytes;
  if (offset + 1 > next[partition]!) next[partition] = offset + 1;
};
const pollStock = () =>
  new Promise<number>((resolve, reject) =>
    consumer.consume(input.maxRecords, (err, messages) => {
      if (err) return reject(err);
      for (const m of messages) {
        seen(m.partition, m.offset, (m.key ? (typeof m.key === 'string' ? Buffer.byteLength(m.key) : m.key.length) : 0) + (m.value ? m.value.length : 0));
      }
      resolve(messages.length);
    }),
  );
/** The packed answer's numbers: per record 8 (partition, offset, timestamp, type, topic, key length, value length, header count), then 2 per header. */
const pollPacked = (floor: BatchCompressor) =>
  new Promise<number>((resolve, reject) =>
    consumer.consumePacked(input.maxRecords, (err, data, numbers) => {
      if (err) return reject(err);
      let count = 0;
      for (let slot = 0; slot < numbers.length; count++) {
        seen(numbers[slot]!, numbers[slot + 1]!, Math.max(0, numbers[slot + 5]!) + Math.max(0, numbers[slot + 6]!));
        slot += 8 + 2 * numbers[slot + 7]!;
      }
      floor.add(data, numbers).then(() => resolve(count), reject);
    }),
  );
while (!done()) {
  const polled = await (compressor ? pollPacked(compressor) : pollStock());
  if (polled > 0 && Number.isNaN(firstRecordSeconds)) firstRecordSeconds = (performance.now() - started) / 1000;
}
const compression = await compressor?.drain();
const seconds = (performance.now() - started) / 1000;
const result: ConsumerResult = {
  seconds,
  firstRecordSeconds,
  records,
  bytes,
  peakRssBytes: statusBytes(process.pid, 'VmHWM') ?? 0,
  cpuSeconds: (cpuSeconds(process.pid) ?? 0) - cpuBefore,
  ...(compression ? { compression } : {}),
};
await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
process.exit(0);
