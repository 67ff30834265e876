import { execFileSync, spawn } from 'node:child_process';
import { inject } from 'vitest';
import { KafkaAdmin } from '../../runtime/kafka/admin.js';

export function bootstrap(): string {
  return inject('stack').kafkaBootstrap;
}

export async function createTopic(topic: string, partitions: number, config: Record<string, string> = {}): Promise<void> {
  const admin = new KafkaAdmin({ bootstrapServers: bootstrap(), extra: {} }, 'coldstore-test-admin');
  try {
    await admin.createTopic(topic, partitions, config);
  } finally {
    admin.disconnect();
  }
}

/** Produces `key:value` lines to one partition with kcat, an independent client. */
export function produceLines(topic: string, partition: number, lines: readonly string[]): void {
  execFileSync('kcat', ['-P', '-b', bootstrap(), '-t', topic, '-p', String(partition), '-K', ':'], { input: `${lines.join('\n')}\n` });
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
  });
  return out
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as ConsumedMessage);
}

/** Like produceLines, without blocking the event loop (for producing while a test does other things). */
export function produceLinesAsync(topic: string, partition: number, lines: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', ['-P', '-b', bootstrap(), '-t', topic, '-p', String(partition), '-K', ':'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kcat exited ${code}: ${stderr}`))));
    child.stdin.end(`${lines.join('\n')}\n`);
  });
}
