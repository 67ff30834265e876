import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { ConnectorPlugin } from '../../runtime/api/index.js';
import { createApp, type App, type AppOptions } from '../../app/app.js';
import { parseWorkerConfig } from '../../runtime/config/worker-config.js';
import { createLogger } from '../../runtime/telemetry/logger.js';
import { bootstrap } from './kafka.js';
import { tmpDir } from './tmp.js';
import { waitFor } from './wait.js';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  text: string;
  body: any;
}

export interface TestApp {
  app: App;
  dataDir: string;
  /** Log lines the worker wrote (only when created with `captureLogs`). */
  logs: string[];
  /** One REST call through fastify's inject(); an object body is sent as JSON, a string body as is. */
  call(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>;
}

/**
 * A worker wired by createApp against the real local Kafka, with a fresh data dir and
 * fast offset flushes, not listening (tests use inject()). Call `app.stop()` when done.
 */
export async function createTestApp(
  extra: Record<string, unknown> = {},
  options: { captureLogs?: boolean; start?: boolean; dataDir?: string; plugins?: ConnectorPlugin[]; app?: AppOptions } = {},
): Promise<TestApp> {
  const dataDir = options.dataDir ?? tmpDir('app-data');
  const logs: string[] = [];
  const logger = options.captureLogs ? createLogger('info', {}, { write: (line: string) => void logs.push(line) }) : createLogger('silent');
  const config = parseWorkerConfig({ 'bootstrap.servers': bootstrap(), 'data.dir': dataDir, 'offset.flush.interval.ms': 200, ...extra });
  const app = await createApp(config, logger, options.app);
  for (const plugin of options.plugins ?? []) app.herder.plugins.add(plugin);
  if (options.start !== false) await app.start();
  return {
    app,
    dataDir,
    logs,
    async call(method, url, body, headers = {}) {
      const isText = typeof body === 'string';
      const res = await app.server.inject({
        method: method as never,
        url,
        headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        ...(body === undefined ? {} : { payload: isText ? body : JSON.stringify(body) }),
      });
      let parsed: unknown;
      try {
        parsed = res.body ? JSON.parse(res.body) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: res.statusCode, headers: res.headers, text: res.body, body: parsed };
    },
  };
}

/** Every error answer is Kafka Connect's `{error_code, message}` with error_code = the HTTP status. */
export function expectError(reply: Reply, status: number, message?: RegExp): void {
  expect(reply.status, reply.text).toBe(status);
  expect(reply.body).toMatchObject({ error_code: status, message: expect.any(String) });
  expect(reply.body.message.length).toBeGreaterThan(0);
  if (message) expect(reply.body.message).toMatch(message);
}

/** The bad fields a 400 config answer names, sorted. */
export function badFields(reply: Reply): string[] {
  expect(Array.isArray(reply.body?.fields), reply.text).toBe(true);
  return [...new Set((reply.body.fields as { field: string }[]).map((f) => f.field))].sort();
}

/** The FileStreamSink's output file, one JSON object per record. */
export function sinkLines(path: string): { topic: string; partition: number; offset: string; key: string | null; value: string | null }[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l));
}

export function decoded(base64: string | null): string | null {
  return base64 === null ? null : Buffer.from(base64, 'base64').toString('utf8');
}

export function connectorsFile(dataDir: string): string {
  return join(dataDir, 'checkpoints', 'connectors.json');
}

/**
 * The value of the Prometheus sample `name{labels...}` in /metrics text, or undefined when
 * there is none. Labels not given (e.g. otel_scope_name) are ignored.
 */
export function metricSample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)\{(.*)\} (\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...match[2]!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[3]);
  }
  return undefined;
}

/** The connector's status, asserted to be answered. */
export async function connectorStatus(app: TestApp, name: string) {
  const res = await app.call('GET', `/connectors/${name}/status`);
  expect(res.status, res.text).toBe(200);
  return res.body as { connector: { state: string }; tasks: { id: number; state: string }[] };
}

/** The connector's active topics (KIP-558), in the shape Kafka Connect answers. */
export async function connectorTopics(app: TestApp, name: string): Promise<string[]> {
  const res = await app.call('GET', `/connectors/${name}/topics`);
  expect(res.status, res.text).toBe(200);
  expect(Object.keys(res.body)).toEqual([name]);
  return res.body[name].topics as string[];
}

/** Polls GET /ready until `wanted` holds (each probe behind it is cached a few seconds). */
export function readyUntil(t: TestApp, what: string, wanted: (reply: Reply) => boolean, timeoutMs = 60_000): Promise<Reply> {
  return waitFor(
    what,
    async () => {
      const reply = await t.call('GET', '/ready');
      if (!wanted(reply)) throw new Error(`${reply.status} ${reply.text}`);
      return reply;
    },
    { timeoutMs, intervalMs: 500 },
  );
}
