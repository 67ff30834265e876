/**
 * Restore baseline (child process): a plain Producer of the same client with the same
 * settings as coldstore's (runtime/kafka/producer.ts: idempotent, linger.ms 5, delivery
 * reports polled every 20 ms) sending the records a pre-filled topic holds, generated in
 * memory before the clock starts, to the same partitions, until all are acknowledged.
 *
 * Input (argv[2], JSON): ProducerInput. Prints `RESULT <json>` (ProducerResult).
 */
import KafkaLib from '@confluentinc/kafka-javascript';
import type { LibrdKafkaError } from '@confluentinc/kafka-javascript';
import { cpuSeconds, statusBytes } from './proc.js';
import { recordKey, recordValue, type RecordKind } from './records.js';

export interface ProducerInput {
  bootstrap: string;
  topic: string;
  kind: RecordKind;
  partitions: number;
  perPartition: number;
}

export interface ProducerResult {
  seconds: number;
  records: number;
  bytes: number;
  peakRssBytes: number;
  cpuSeconds: number;
}

const input = JSON.parse(process.argv[2]!) as ProducerInput;
const { Producer, CODES } = KafkaLib;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const records: { partition: number; key: Buffer; value: Buffer }[] = [];
let bytes = 0;
for (let partition = 0; partition < input.partitions; partition++) {
  for (let index = 0; index < input.perPartition; index++) {
    const key = recordKey(partition, index);
    const value = recordValue(input.kind, partition, index);
    bytes += key.length + value.length;
    records.push({ partition, key, value });
  }
}
const cpuBefore = cpuSeconds(process.pid) ?? 0;

const started = performance.now();
const producer = new Producer({
  'bootstrap.servers': input.bootstrap,
  'client.id': 'coldstore-bench-baseline-producer',
  'enable.idempotence': true,
  dr_cb: true,
  'linger.ms': 5,
});
let acknowledged = 0;
let failure: Error | undefined;
producer.on('delivery-report', (err: LibrdKafkaError) => {
  if (err) failure ??= new Error(`delivery failed: ${err.message}`);
  acknowledged++;
});
await new Promise<void>((resolve, reject) => producer.connect({ timeout: 30_000 }, (err) => (err ? reject(err) : resolve())));
producer.setPollInterval(20);
for (const r of records) {
  for (;;) {
    try {
      producer.produce(input.topic, r.partition, r.value, r.key, null);
      break;
    } catch (err) {
      if ((err as { code?: number }).code !== CODES.ERRORS.ERR__QUEUE_FULL) throw err;
      await sleep(5);
    }
  }
}
while (acknowledged < records.length && !failure) await sleep(5);
if (failure) throw failure;
const seconds = (performance.now() - started) / 1000;
const result: ProducerResult = {
  seconds,
  records: acknowledged,
  bytes,
  peakRssBytes: statusBytes(process.pid, 'VmHWM') ?? 0,
  cpuSeconds: (cpuSeconds(process.pid) ?? 0) - cpuBefore,
};
await new Promise<void>((resolve) => producer.disconnect(() => resolve()));
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
process.exit(0);
