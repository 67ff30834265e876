import { ColdstoreError, ErrorCodes } from '../../../runtime/api/index.js';
import type { StreamRef } from '../../layouts/azul/event-fields.js';
import type { AzulModel } from '../../layouts/azul/registry.js';
import type { DispatcherSettings } from './config.js';
import { DispatcherError, type BulkOutcome, type Dispatcher } from './dispatcher.js';

interface Call {
  method: 'GET' | 'HEAD' | 'POST';
  url: URL;
  body?: Buffer;
  contentType?: string;
}

interface Answer {
  status: number;
  body: Buffer;
}

/** The Dispatcher port over HTTP (Node's fetch); every call is bounded by dispatcher.timeout.ms. */
export function createDispatcher(settings: DispatcherSettings): Dispatcher {
  // Connectors that need a dispatcher only for some layouts declare the URL optional and cast.
  if (!settings['dispatcher.url'])
    throw new ColdstoreError(
      ErrorCodes.CONFIG_INVALID,
      'dispatcher.url is required to reach the Azul dispatcher; set it to its base URL, e.g. http://azul-dispatcher:8111',
    );
  const eventsBase = baseUrl(settings['dispatcher.url']);
  const streamsBase = baseUrl(settings['dispatcher.streams.url'] || settings['dispatcher.url']);
  const send = sender(settings['dispatcher.timeout.ms'], settings['dispatcher.auth.token']);
  const streamCall = (method: 'GET' | 'HEAD', ref: StreamRef): Call => ({
    method,
    url: new URL(`${streamsBase}/api/v3/stream/${pathOf(ref.source, ref.label, ref.sha256)}`),
  });

  return {
    description: `Azul dispatcher at ${eventsBase}${streamsBase === eventsBase ? '' : ` (streams at ${streamsBase})`}`,

    async getStream(ref) {
      const call = streamCall('GET', ref);
      const answer = await send(call);
      if (answer.status === 200) return answer.body;
      if (answer.status === 404) return undefined;
      throw statusError(call, answer);
    },

    async hasStream(ref) {
      const call = streamCall('HEAD', ref);
      const answer = await send(call);
      if (answer.status === 200 || answer.status === 404) return answer.status === 200;
      throw statusError(call, answer);
    },

    async postStream(ref, body) {
      const url = new URL(`${streamsBase}/api/v3/stream/${pathOf(ref.source, ref.label)}`);
      url.search = new URLSearchParams({ 'skip-identify': 'true', 'expected-sha256': ref.sha256 }).toString();
      const call: Call = { method: 'POST', url, body, contentType: 'application/octet-stream' };
      const answer = await send(call);
      if (answer.status !== 200)
        throw statusError(call, answer, 'the dispatcher refused the blob (its bytes must hash to the sha256 asked for); check the backed-up copy of this blob');
      const stored = field(field(parseJson(answer.body), 'data'), 'sha256');
      if (stored !== ref.sha256) {
        const said =
          typeof stored === 'string'
            ? `says it stored sha256 ${stored}, not ${ref.sha256}`
            : `did not answer the documented {"data": {"sha256"}} (${describeBody(answer.body)})`;
        throw new DispatcherError(
          `${where(call)} answered 200 but ${said}; whether the blob is stored is unknown: check with a HEAD before posting again`,
          false,
          200,
        );
      }
    },

    async postEvents(model: AzulModel, bulk: Buffer): Promise<BulkOutcome> {
      const url = new URL(`${eventsBase}/api/v2/event`);
      // pause_plugins: restored history must not be processed again by Azul's plugins.
      url.search = new URLSearchParams({ model, 'avro-format': 'true', sync: 'true', include_ok: 'false', pause_plugins: 'true' }).toString();
      const call: Call = { method: 'POST', url, body: bulk, contentType: 'application/avro' };
      const answer = await send(call);
      if (answer.status === 425) {
        const problem = parseProblem(answer.body);
        return { kind: 'filtered', errorEnum: problem?.errorEnum ?? 'unknown', detail: problem?.text ?? describeBody(answer.body) };
      }
      if (answer.status !== 200)
        throw statusError(
          call,
          answer,
          `the dispatcher refused the bulk's ${model} events; check that the backup's model version is one this dispatcher accepts`,
        );
      const outcome = parseBulkAnswer(answer.body);
      if (outcome) return outcome;
      throw new DispatcherError(
        `${where(call)} answered 200 with ${describeBody(answer.body)} instead of {"total_ok", "total_failures", "failures"}; the bulk's fate is unknown (it may have been stored): check the dispatcher before posting it again`,
        false,
        200,
      );
    },
  };
}

function sender(timeoutMs: number, token: string | undefined): (call: Call) => Promise<Answer> {
  return async (call) => {
    const headers: Record<string, string> = {};
    if (call.contentType) headers['content-type'] = call.contentType;
    if (token) headers['authorization'] = `Bearer ${token}`;
    try {
      // The signal also bounds reading the answer's body, so a stalled download fails too.
      const res = await fetch(call.url, { method: call.method, headers, body: call.body, signal: AbortSignal.timeout(timeoutMs) });
      return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
    } catch (err) {
      throw networkError(call, err, timeoutMs);
    }
  };
}

function baseUrl(text: string): string {
  const url = new URL(text);
  // No user:password@ part: fetch refuses it, and it must not reach messages; the token is the credential.
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function pathOf(...segments: string[]): string {
  return segments.map(encodeURIComponent).join('/');
}

/** The call as messages name it: method and URL (the token travels in a header, never here). */
function where(call: Call): string {
  return `${call.method} ${call.url.href}`;
}

function networkError(call: Call, err: unknown, timeoutMs: number): DispatcherError {
  const name = (err as Error | undefined)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new DispatcherError(
      `${where(call)}: no answer within ${timeoutMs} ms; transient: retry, and raise dispatcher.timeout.ms if the dispatcher is only slow`,
      true,
      undefined,
      { cause: err },
    );
  }
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const reason = cause?.code ?? cause?.message ?? (err as Error).message;
  return new DispatcherError(
    `${where(call)}: network error (${reason}); transient: retry once the dispatcher is reachable, and check its URL if this persists`,
    true,
    undefined,
    { cause: err },
  );
}

function statusError(call: Call, answer: Answer, refusal = 'retrying will not help'): DispatcherError {
  const transient = answer.status === 429 || answer.status >= 500;
  const problem = parseProblem(answer.body)?.text ?? describeBody(answer.body);
  let advice: string;
  if (transient) advice = 'transient: retry later, and check the health of the dispatcher if this persists';
  else if (answer.status === 401 || answer.status === 403) advice = 'check dispatcher.auth.token';
  else if (answer.status === 404 || answer.status === 405) advice = 'check that the URL points at an Azul dispatcher (API v2 events, v3 streams)';
  else advice = refusal;
  return new DispatcherError(`${where(call)} answered ${answer.status} (${problem}); ${advice}`, transient, answer.status);
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

/** The documented error body `{status, title, detail, error_enum}`, as one line. */
function parseProblem(body: Buffer): { text: string; errorEnum?: string } | undefined {
  const json = parseJson(body);
  const [title, detail, errorEnum] = ['title', 'detail', 'error_enum']
    .map((name) => field(json, name))
    .map((v) => (typeof v === 'string' && v ? v : undefined));
  if (!title && !detail) return undefined;
  const text = [title, detail].filter(Boolean).join(': ') + (errorEnum ? ` [${errorEnum}]` : '');
  return errorEnum ? { text, errorEnum } : { text };
}

function describeBody(body: Buffer): string {
  if (body.length === 0) return 'an empty body';
  const text = body.toString('utf8');
  // Control characters or invalid UTF-8: not worth quoting.
  if (/[\x00-\x08\x0e-\x1f\ufffd]/.test(text)) return `${body.length} bytes of non-text`;
  const line = text.replace(/\s+/g, ' ').trim();
  return `"${line.length > 200 ? `${line.slice(0, 200)}…` : line}"`;
}

function parseBulkAnswer(body: Buffer): BulkOutcome | undefined {
  const json = parseJson(body);
  const totalOk = field(json, 'total_ok');
  const totalFailures = field(json, 'total_failures');
  // Go encodes an empty slice as null; absent and null both mean no failures listed.
  const failures = field(json, 'failures') ?? [];
  if (!Number.isSafeInteger(totalOk) || !Number.isSafeInteger(totalFailures) || !Array.isArray(failures)) return undefined;
  return {
    kind: 'posted',
    totalOk: totalOk as number,
    totalFailures: totalFailures as number,
    failures: failures.map((f: unknown) => {
      const error = field(f, 'error');
      return { event: field(f, 'event'), error: typeof error === 'string' ? error : (JSON.stringify(error) ?? 'no error given') };
    }),
  };
}
