/** The stack's Kafka: a single-node KRaft broker run from Maven Central jars on loopback. */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { paths, ports } from './layout.js';
import { appendBanner, failure, runLogged, spawnDetached } from './processes.js';

/**
 * Kafka is ready when it answers a Metadata request (v4, no topics) with at least one
 * broker. The broker only lists itself once it has registered with the controller and
 * caught up on metadata, so this is stricter than a TCP connect and needs no client
 * library or log parsing. v4 is valid on Kafka 3.x and 4.x (KIP-896 removed only v0–v3).
 */
export function kafkaAnswers(port: number, timeoutMs = 2000): Promise<boolean> {
  const clientId = Buffer.from('coldstore-stack');
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length + 4 + 1);
  let o = 0;
  o = body.writeInt16BE(3, o); // api_key: Metadata
  o = body.writeInt16BE(4, o); // api_version
  o = body.writeInt32BE(7, o); // correlation_id
  o = body.writeInt16BE(clientId.length, o);
  o += clientId.copy(body, o);
  o = body.writeInt32BE(0, o); // topics: empty array = none (null would mean all)
  body.writeInt8(0, o); // allow_auto_topic_creation
  const frame = Buffer.concat([Buffer.alloc(4), body]);
  frame.writeInt32BE(body.length, 0);

  return new Promise((resolvePromise) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = Buffer.alloc(0);
    const done = (ok: boolean) => {
      socket.destroy();
      resolvePromise(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
    socket.once('connect', () => socket.write(frame));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      // size(4) correlation_id(4) throttle_time_ms(4) brokers.length(4)
      if (received.length < 16) return;
      done(received.readInt32BE(4) === 7 && received.readInt32BE(12) >= 1);
    });
  });
}

function kafkaServerProperties(): string {
  const p = ports();
  return [
    '# Written by test/stack/kafka.ts on every start; edits are overwritten.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${p.kafkaController}`,
    `listeners=PLAINTEXT://127.0.0.1:${p.kafka},CONTROLLER://127.0.0.1:${p.kafkaController}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${p.kafka}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${paths('kafka').data}`,
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    // Compaction within seconds, so tests can back up compacted topics with real offset gaps.
    'log.cleaner.backoff.ms=500',
    '',
  ].join('\n');
}

/** The broker's log4j settings: INFO to stdout, request and state-change chatter at WARN. */
export const KAFKA_LOG4J = [
  'log4j.rootLogger=INFO, stdout',
  'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
  'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
  'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
  'log4j.logger.kafka.request.logger=WARN',
  'log4j.logger.state.change.logger=WARN',
  '',
].join('\n');

function kafkaJvmArgs(heap: string | null): string[] {
  const p = paths('kafka');
  const log4j = join(p.dir, 'log4j.properties');
  return [...(heap ? [heap] : []), '-cp', `${p.lib}/*`, `-Dlog4j.configuration=file:${log4j}`];
}

/** Kafka's own id format (Uuid.toString): url-safe base64 of a random UUID, unpadded. */
export function kafkaClusterId(): string {
  for (;;) {
    const id = Buffer.from(randomUUID().replaceAll('-', ''), 'hex').toString('base64url');
    if (!id.startsWith('-')) return id; // Kafka rejects ids that look like CLI flags
  }
}

/** Formats storage only once: a restart must keep the data (fault-injection tests rely on it). */
async function formatKafkaIfNeeded(): Promise<void> {
  const p = paths('kafka');
  if (existsSync(join(p.data, 'meta.properties'))) return;
  appendBanner(p.log, 'formatting storage');
  const args = [...kafkaJvmArgs(null), 'kafka.tools.StorageTool', 'format', '-t', kafkaClusterId(), '-c', p.config];
  const code = await runLogged('java', args, p.log, p.dir);
  if (code !== 0) throw failure(`kafka storage format failed (exit ${code})`, p.log);
}

export async function launchKafka(): Promise<number> {
  const p = paths('kafka');
  mkdirSync(p.data, { recursive: true });
  writeFileSync(p.config, kafkaServerProperties());
  writeFileSync(join(p.dir, 'log4j.properties'), KAFKA_LOG4J);
  await formatKafkaIfNeeded();
  appendBanner(p.log, 'starting kafka');
  return spawnDetached('kafka', 'java', [...kafkaJvmArgs('-Xmx768m'), 'kafka.Kafka', p.config], 'is Java 17 on PATH?');
}
