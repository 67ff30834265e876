import { execFileSync, spawn } from 'node:child_process';
import { inject } from 'vitest';
import KafkaLib from '@confluentinc/kafka-javascript';
import { KafkaAdmin } from '../../runtime/kafka/admin.js';
import { KafkaProducer, type OutgoingRecord } from '../../runtime/kafka/producer.js';

export function bootstrap(): string {
  return inject('stack').kafkaBootstrap;
}

export async function createTopic(topic: string, partitions: number, config: Record<string, string> = {}): Promise<void> {
  const admin = new KafkaAdmin({ bootstrapServers: bootstrap(), extra: {} }, 'coldstore-test-admin');
  try {
    await admin.createTopic(topic, partitions, { configs: config });
  } finally {
    admin.disconnect();
  }
}

/**
 * kcat producing `key:value` lines to one partition. Idempotent, so a batch retried
 * (e.g. while a just-created topic's leader is elected) cannot land after a later one:
 * tests compare partitions with the order the lines were given in.
 */
const kcatProducerArgs = (topic: string, partition: number) => [
  '-P',
  '-b',
  bootstrap(),
  '-t',
  topic,
  '-p',
  String(partition),
  '-K',
  ':',
  '-X',
  'enable.idempotence=true',
];

/** Produces `key:value` lines to one partition with kcat, an independent client. */
export function produceLines(topic: string, partition: number, lines: readonly string[]): void {
  execFileSync('kcat', kcatProducerArgs(topic, partition), { input: `${lines.join('\n')}\n` });
}

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  payload: string | null;
}

/** Reads a whole topic with kcat (JSON envelope), independent of coldstore's client code. */
export function consumeAll(topic: string, expectedCount: number): ConsumedMessage[] {
  const out = execFileSync('kcat', ['-C', '-b', bootstrap(), '-t', topic, '-o', 'beginning', '-e', '-J', '-c', String(expectedCount)], {
    encoding: 'utf8',
    timeout: 30_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  return out
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as ConsumedMessage);
}

/** Like produceLines, without blocking the event loop (for producing while a test does other things). */
export function produceLinesAsync(topic: string, partition: number, lines: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', kcatProducerArgs(topic, partition), { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kcat exited ${code}: ${stderr}`))));
    child.stdin.end(`${lines.join('\n')}\n`);
  });
}

/** Produces with coldstore's idempotent producer wrapper; resolves when all are acknowledged. */
export async function produceRecords(records: OutgoingRecord[]): Promise<void> {
  const producer = new KafkaProducer({ bootstrapServers: bootstrap(), extra: {} }, 'test-producer');
  await producer.connect();
  try {
    await Promise.all(records.map((r) => producer.send(r)));
  } finally {
    await producer.disconnect();
  }
}

/** Runs transactions with a plain transactional producer: committed ones become visible, aborted ones leave gaps. */
export async function produceTransactions(topic: string, partition: number, transactions: { commit: boolean; values: string[] }[]): Promise<void> {
  const producer = new KafkaLib.Producer({ 'bootstrap.servers': bootstrap(), 'transactional.id': `test-txn-${topic}`, dr_cb: false });
  const call = (fn: (cb: (err: unknown) => void) => void) => new Promise<void>((resolve, reject) => fn((err) => (err ? reject(err) : resolve())));
  await call((cb) => producer.connect({}, cb));
  await call((cb) => producer.initTransactions(10_000, cb));
  for (const txn of transactions) {
    await call((cb) => producer.beginTransaction(cb));
    for (const value of txn.values) producer.produce(topic, partition, Buffer.from(value), Buffer.from(value), null);
    // Send before ending the transaction: an abort would otherwise drop unsent records instead of writing them.
    await call((cb) => producer.flush(10_000, cb));
    if (txn.commit) await call((cb) => producer.commitTransaction(10_000, cb));
    else await call((cb) => producer.abortTransaction(10_000, cb));
  }
  await call((cb) => producer.disconnect(cb));
}

/**
 * Produces records `k-<p>-<i>:v-<p>-<i>` for offsets [first, last) of every partition
 * in small chunks with pauses, so crashes and faults land while records flow.
 */
export async function produceSteadily(topic: string, partitions: number, first: number, last: number, chunk = 40, pauseMs = 25): Promise<void> {
  for (let from = first; from < last; from += chunk) {
    const count = Math.min(chunk, last - from);
    await Promise.all(
      Array.from({ length: partitions }, (_, p) =>
        produceLinesAsync(
          topic,
          p,
          Array.from({ length: count }, (_, j) => `k-${p}-${from + j}:v-${p}-${from + j}`),
        ),
      ),
    );
    await new Promise((r) => setTimeout(r, pauseMs));
  }
}
