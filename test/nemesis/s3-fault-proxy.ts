/**
 * A reverse HTTP proxy in front of a real S3 server that can be told, at any moment, to
 * misbehave the way S3 does: answer slowly, answer 500 InternalError or 503 SlowDown
 * without touching the server, or drop the connection mid-request (the nemesis toolkit).
 *
 * Requests and answers are streamed both ways, never held whole, so multipart uploads of
 * many MB pass through. The request goes on byte for byte as received (method, path and
 * query, every raw header and the Host header above all): SigV4 signs Host, and the server
 * checks the signature against what it receives.
 *
 * Which requests misbehave under a fraction is decided by a counter, not a coin: the n-th
 * request since the last `set` misbehaves when floor(n * fraction) grows at n. So of any
 * first n requests exactly floor(n * fraction) misbehave (fraction 0.5: the 2nd, 4th, ...;
 * fraction 1: all of them), and a test can assert the exact count.
 */
import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';

export type S3Misbehaviour =
  | { kind: 'pass' }
  | { kind: 'slow'; delayMs: number; jitterMs?: number }
  | { kind: 'error'; status: 500 | 503; fraction: number }
  | { kind: 'reset'; fraction: number };

export interface S3FaultCounts {
  /** Requests sent on to the server (a delayed one counts here too, once sent). */
  forwarded: number;
  errors500: number;
  slowDowns503: number;
  resets: number;
  delayed: number;
  /** Forwarded requests the server could not be reached for (refused, reset) before it answered: 502 BadGateway. */
  unreachable: number;
}

const S3_ERRORS = {
  500: { code: 'InternalError', message: 'We encountered an internal error. Please try again.' },
  503: { code: 'SlowDown', message: 'Please reduce your request rate.' },
} as const;

// Floating-point products such as 3 * 0.1 land a hair off the integer they mean.
const FRACTION_EPSILON = 1e-9;

export class S3FaultProxy {
  readonly counts: S3FaultCounts = { forwarded: 0, errors500: 0, slowDowns503: 0, resets: 0, delayed: 0, unreachable: 0 };
  readonly endpoint: string;
  private mode: S3Misbehaviour = { kind: 'pass' };
  private requestsSinceSet = 0;
  private readonly delays = new Set<NodeJS.Timeout>();
  private readonly agent = new Agent({ keepAlive: true });
  private closed = false;

  private constructor(
    private readonly server: Server,
    private readonly target: URL,
    readonly port: number,
  ) {
    this.endpoint = `http://127.0.0.1:${port}`;
  }

  /** Listens on 127.0.0.1:`port` (0: a free port) and forwards to `target`, e.g. http://127.0.0.1:39000. */
  static async start(target: string, port = 0): Promise<S3FaultProxy> {
    const targetUrl = new URL(target);
    if (targetUrl.protocol !== 'http:') throw new Error(`S3FaultProxy forwards plain http only, not ${target}`);
    // No request timeout of the proxy's own: a slow upload must fail on the client's or the server's clock, not ours.
    const server = createServer({ requestTimeout: 0 });
    await new Promise<void>((listening, failed) => {
      server.once('error', failed);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', failed);
        listening();
      });
    });
    const proxy = new S3FaultProxy(server, targetUrl, (server.address() as AddressInfo).port);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => proxy.receive(req, res));
    return proxy;
  }

  /** From the next request on; requests already being delayed or forwarded finish as they started. */
  set(mode: S3Misbehaviour): void {
    if ('fraction' in mode && !(mode.fraction >= 0 && mode.fraction <= 1)) throw new RangeError(`fraction must lie in [0, 1], not ${mode.fraction}`);
    if (mode.kind === 'slow' && !(mode.delayMs >= 0 && (mode.jitterMs ?? 0) >= 0)) throw new RangeError('delayMs and jitterMs must be at least 0');
    this.mode = { ...mode };
    this.requestsSinceSet = 0;
  }

  heal(): void {
    this.set({ kind: 'pass' });
  }

  /** Stops listening, drops every open connection (half-sent requests included) and every delayed request. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.delays) clearTimeout(timer);
    this.delays.clear();
    const stopped = new Promise<void>((done) => this.server.close(() => done()));
    this.server.closeAllConnections();
    this.agent.destroy();
    await stopped;
  }

  private receive(req: IncomingMessage, res: ServerResponse): void {
    try {
      const mode = this.mode;
      if (mode.kind === 'slow') return this.delay(req, res, mode.delayMs, mode.jitterMs ?? 0);
      if (mode.kind === 'pass' || !this.misbehavesNow(mode.fraction)) return this.forward(req, res);
      if (mode.kind === 'reset') return this.reset(req);
      if (mode.status === 500) this.counts.errors500++;
      else this.counts.slowDowns503++;
      const { code, message } = S3_ERRORS[mode.status];
      this.answerError(req, res, mode.status, code, message);
    } catch {
      req.socket.destroy();
    }
  }

  private misbehavesNow(fraction: number): boolean {
    const n = ++this.requestsSinceSet;
    return Math.floor(n * fraction + FRACTION_EPSILON) > Math.floor((n - 1) * fraction + FRACTION_EPSILON);
  }

  /**
   * Holds the request (its body waits unread, pushing back on the client) for at least the
   * delay: a timer may fire a millisecond early, so it is re-armed for whatever is left.
   */
  private delay(req: IncomingMessage, res: ServerResponse, delayMs: number, jitterMs: number): void {
    this.counts.delayed++;
    const until = performance.now() + Math.max(0, delayMs + (Math.random() * 2 - 1) * jitterMs);
    const wait = () => {
      const left = until - performance.now();
      const timer = setTimeout(
        () => {
          this.delays.delete(timer);
          if (this.closed || req.socket.destroyed) return;
          if (performance.now() < until) return wait();
          try {
            this.forward(req, res);
          } catch {
            req.socket.destroy();
          }
        },
        Math.max(1, Math.ceil(left)),
      );
      this.delays.add(timer);
    };
    wait();
  }

  /** Drops the connection once the request body has begun (or, without a body, once the request is read). */
  private reset(req: IncomingMessage): void {
    this.counts.resets++;
    const drop = () => req.socket.destroy();
    req.once('data', drop);
    req.once('end', drop);
    req.once('error', drop);
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    this.counts.forwarded++;
    const upstream = request({
      host: this.target.hostname,
      port: this.target.port || 80,
      method: req.method,
      path: req.url,
      // Raw headers as the client sent them: the same names, order, duplicates and Host.
      headers: req.rawHeaders,
      agent: this.agent,
    });
    upstream.on('response', (answer) => {
      try {
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.rawHeaders);
      } catch {
        upstream.destroy();
        return void res.destroy();
      }
      pipeline(answer, res, (err) => {
        if (err) res.destroy();
      });
    });
    upstream.on('error', (err) => {
      // Half an answer already went out: the client can only learn of it by a cut connection.
      if (res.headersSent || res.destroyed) return void res.destroy();
      this.counts.unreachable++;
      this.answerError(req, res, 502, 'BadGateway', `The S3 server behind the fault proxy could not be reached: ${err.message}`);
    });
    req.on('error', () => upstream.destroy());
    // The client went away before the whole answer reached it: the server's side goes too.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }

  /** Reads the request body to its end first, so the client is not cut off mid-send (EPIPE) but gets the answer. */
  private answerError(req: IncomingMessage, res: ServerResponse, status: number, code: string, message: string): void {
    const body =
      '<?xml version="1.0" encoding="UTF-8"?>' +
      `<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message><RequestId>nemesis</RequestId><HostId>nemesis</HostId></Error>`;
    const answer = () => {
      if (res.destroyed || res.headersSent) return;
      res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), 'x-amz-request-id': 'nemesis' });
      res.end(body);
    };
    if (req.readableEnded) return answer();
    req.once('end', answer);
    req.once('error', () => req.socket.destroy());
    // A request piped to an upstream that failed was unpiped and sits paused.
    req.resume();
  }
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
