/**
 * An Azul dispatcher for tests: a real HTTP server on 127.0.0.1 speaking the
 * documented HTTP contract (the calls docs/restore.md describes), strict where a restore could go wrong
 * (expected-sha256, pause_plugins, decodable bulks), with injectable failures.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { splitBulk } from '../../connectors/layouts/azul/bulk.js';
import { readEventFields } from '../../connectors/layouts/azul/event-fields.js';
import { AZUL_MODEL_VERSION, isAzulModel, type AzulModel } from '../../connectors/layouts/azul/registry.js';

export interface FailureRule {
  method?: string;
  /** Tested against the path with its query. */
  path?: RegExp;
  /** Answered instead of the real answer; absent with delayMs: the real answer, late. */
  status?: number;
  /** How many matching requests fail; default: until clearFailures. */
  times?: number;
  /** Non-JSON bytes instead of the error JSON. */
  garbage?: boolean;
  /** This JSON instead of the error JSON (e.g. a 200 of the wrong shape). */
  body?: unknown;
  delayMs?: number;
  /** Never answers until clearFailures or close (which then drop the connection). */
  hang?: boolean;
  /** Drops the connection without an answer. */
  reset?: boolean;
}

export type Verdict = 'ok' | 'fail' | 'filtered';

export interface DispatcherDouble {
  url: string;
  /** Stored blobs by `${source}/${label}/${sha256}` (from addStream or restore POSTs). */
  streams: Map<string, Buffer>;
  /** Every event accepted through bulk posts, in arrival order, exact bytes. */
  events: { model: string; bytes: Buffer }[];
  /** Every bulk post accepted (200 or 425), in order: model, event count, arrival time (ms). */
  bulks: { model: string; count: number; at: number }[];
  /** Stream POSTs accepted, in order, with arrival time. */
  streamPosts: { key: string; at: number }[];
  /** The most request-body bytes received but not yet answered at one moment (with a delay rule: what the client holds in flight). */
  peakUnansweredBodyBytes: number;
  /** Every request seen: method, path (with query), status answered (0: none, hang or reset), request headers. */
  requests: { method: string; path: string; status: number; headers: IncomingHttpHeaders }[];
  /** Adds a blob the dispatcher will serve (GET/HEAD); returns its sha256. `servedBytes` lets a test serve bytes that do not match the sha256. */
  addStream(source: string, label: string, bytes: Buffer, options?: { servedBytes?: Buffer }): string;
  fail(rule: FailureRule): void;
  clearFailures(): void;
  /** Decides per event what a bulk post does with it: accepted (default), failed (listed in `failures`), or filtered (aged off; a bulk of only filtered events gets 425). */
  judge: (model: string, eventBytes: Buffer) => Verdict;
  close(): Promise<void>;
}

type Reply = (status: number, body?: unknown) => void;

const digest = (algorithm: string, bytes: Buffer) => createHash(algorithm).update(bytes).digest('hex');

const problem = (status: number, title: string, detail: string, errorEnum: string) => ({ status, title, detail, error_enum: errorEnum });

export async function startDispatcherDouble(): Promise<DispatcherDouble> {
  const served = new Map<string, Buffer>();
  let rules: { rule: FailureRule; left: number }[] = [];
  const hung = new Set<ServerResponse>();
  const timers = new Set<NodeJS.Timeout>();

  const double: DispatcherDouble = {
    url: '',
    streams: new Map(),
    events: [],
    bulks: [],
    streamPosts: [],
    peakUnansweredBodyBytes: 0,
    requests: [],
    addStream(source, label, bytes, options) {
      const sha256 = digest('sha256', bytes);
      const key = `${source}/${label}/${sha256}`;
      double.streams.set(key, bytes);
      if (options?.servedBytes) served.set(key, options.servedBytes);
      return sha256;
    },
    fail(rule) {
      rules.push({ rule, left: rule.times ?? Infinity });
    },
    clearFailures() {
      rules = [];
      for (const res of hung) res.socket?.destroy();
      hung.clear();
    },
    judge: () => 'ok',
    async close() {
      double.clearFailures();
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  function takeRule(req: IncomingMessage): FailureRule | undefined {
    const found = rules.find(({ rule, left }) => left > 0 && (!rule.method || rule.method === req.method) && (!rule.path || rule.path.test(req.url ?? '')));
    if (found) found.left--;
    return found?.rule;
  }

  function route(req: IncomingMessage, body: Buffer, reply: Reply): void {
    const url = new URL(req.url ?? '/', 'http://double');
    const parts = url.pathname.split('/').slice(1).map(decodeURIComponent);
    const isStream = parts[0] === 'api' && parts[1] === 'v3' && parts[2] === 'stream';
    if (isStream && parts.length === 6 && (req.method === 'GET' || req.method === 'HEAD')) return serveStream(parts.slice(3).join('/'), reply);
    if (isStream && parts.length === 5 && req.method === 'POST') return storeStream(parts[3]!, parts[4]!, url.searchParams, body, reply);
    if (url.pathname === '/api/v2/event' && req.method === 'POST') return postBulk(url.searchParams, req.headers['content-type'], body, reply);
    reply(404, problem(404, 'Not Found', `${req.method} ${url.pathname} is not a dispatcher route`, 'not_found'));
  }

  function serveStream(key: string, reply: Reply): void {
    const bytes = served.get(key) ?? double.streams.get(key);
    if (bytes) reply(200, bytes);
    else reply(404, problem(404, 'Not Found', `no stream ${key}`, 'stream_not_found'));
  }

  function storeStream(source: string, label: string, query: URLSearchParams, body: Buffer, reply: Reply): void {
    const expected = query.get('expected-sha256');
    const sha256 = digest('sha256', body);
    if (body.length === 0) return reply(400, problem(400, 'Bad Request', 'empty stream body', 'empty_body'));
    if (expected !== sha256)
      return reply(400, problem(400, 'Bad Request', `body sha256 ${sha256} does not match expected-sha256 ${expected}`, 'sha256_mismatch'));
    const key = `${source}/${label}/${sha256}`;
    double.streams.set(key, body);
    double.streamPosts.push({ key, at: Date.now() });
    const hashes = { sha256, sha1: digest('sha1', body), md5: digest('md5', body), sha512: digest('sha512', body) };
    reply(200, { data: { label, size: body.length, ...hashes, mime: 'application/octet-stream', magic: 'data' }, errors: [] });
  }

  function postBulk(query: URLSearchParams, contentType: string | undefined, body: Buffer, reply: Reply): void {
    const model = query.get('model') ?? '';
    const refuse = (detail: string, errorEnum: string) => reply(400, problem(400, 'Bad Request', detail, errorEnum));
    if (!isAzulModel(model)) return refuse(`unknown model "${model}"`, 'bad_model');
    if (query.get('avro-format') !== 'true' || contentType !== 'application/avro')
      return refuse('this double takes only Avro bulks (avro-format=true, application/avro)', 'bad_format');
    if (query.get('pause_plugins') !== 'true')
      return refuse('a restore must post with pause_plugins=true, or plugins process restored history again', 'plugins_not_paused');
    let events: Buffer[];
    try {
      const bulk = splitBulk(model, body);
      if (BigInt(bulk.modelVersion) !== AZUL_MODEL_VERSION) throw new Error(`model_version ${bulk.modelVersion}`);
      events = bulk.events;
    } catch (err) {
      return reply(422, problem(422, 'Unprocessable Entity', `not a Bulk ${model} event: ${(err as Error).message}`, 'invalid_events'));
    }
    const verdicts = events.map((bytes) => double.judge(model, bytes));
    double.bulks.push({ model, count: events.length, at: Date.now() });
    if (events.length > 0 && verdicts.every((v) => v === 'filtered')) {
      return reply(425, problem(425, 'Too Early', `all ${events.length} events were filtered out`, 'all_filtered'));
    }
    const failures: { event: string | number; error: string }[] = [];
    events.forEach((bytes, i) => {
      if (verdicts[i] === 'ok') double.events.push({ model, bytes });
      if (verdicts[i] === 'fail') failures.push({ event: eventId(model, bytes, i), error: 'refused by the test judge' });
    });
    reply(200, { total_ok: verdicts.filter((v) => v === 'ok').length, total_failures: failures.length, failures, ok: [] });
  }

  function fake(rule: FailureRule, reply: Reply): void {
    const status = rule.status ?? 500;
    if (rule.garbage) reply(status, Buffer.from('\x00\x9f<html>not json'));
    else reply(status, rule.body ?? problem(status, 'Injected', `failure injected by the test for status ${status}`, 'injected'));
  }

  let unansweredBodyBytes = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    unansweredBodyBytes += body.length;
    double.peakUnansweredBodyBytes = Math.max(double.peakUnansweredBodyBytes, unansweredBodyBytes);
    let answered = false;
    const settled = () => {
      if (!answered) unansweredBodyBytes -= body.length;
      answered = true;
    };
    const seen = { method: req.method ?? '', path: req.url ?? '', status: 0, headers: req.headers };
    double.requests.push(seen);
    const reply: Reply = (status, payload) => {
      seen.status = status;
      settled();
      const bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(payload === undefined ? '' : JSON.stringify(payload));
      res.writeHead(status, { 'content-type': Buffer.isBuffer(payload) ? 'application/octet-stream' : 'application/json', 'content-length': bytes.length });
      res.end(bytes);
    };
    const rule = takeRule(req);
    if (rule?.reset) {
      settled();
      return void req.socket.destroy();
    }
    if (rule?.hang) return void hung.add(res);
    const faked = rule !== undefined && (rule.status !== undefined || rule.garbage === true || rule.body !== undefined);
    const answer = () => (faked ? fake(rule, reply) : route(req, body, reply));
    if (!rule?.delayMs) return answer();
    const timer = setTimeout(() => {
      timers.delete(timer);
      answer();
    }, rule.delayMs);
    timers.add(timer);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent)
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify(problem(500, 'Double failed', err.message, 'double_error')));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  double.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return double;
}

/** How a failure names its event: the kafka_key when it can be read, else its index in the bulk. */
function eventId(model: AzulModel, bytes: Buffer, index: number): string | number {
  try {
    return readEventFields(model, bytes).kafkaKey;
  } catch {
    return index;
  }
}
