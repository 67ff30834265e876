import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dispatcherConfig, type DispatcherSettings } from '../../connectors/common/dispatcher/config.js';
import { DispatcherError, type Dispatcher } from '../../connectors/common/dispatcher/dispatcher.js';
import { createDispatcher } from '../../connectors/common/dispatcher/http-dispatcher.js';
import { assembleBulk } from '../../connectors/layouts/azul/bulk.js';
import type { StreamRef } from '../../connectors/layouts/azul/event-fields.js';
import { startDispatcherDouble, type DispatcherDouble } from '../helpers/dispatcher-double.js';

// Azul's own encoder wrote these (vendored in test/fixtures/azul with their license).
const vectors = new URL('../fixtures/azul/events/binary/', import.meta.url);
const augmented = readFileSync(new URL('augmented.json.avro', vectors));
const extracted = readFileSync(new URL('extracted.json.avro', vectors));
const KAFKA_KEY = 'ee303d3c6d7cfa24d42e6348bdd1103a26de77a887e9dbee3dd1fe6304414f69';
const bulk = assembleBulk(6n, [augmented, extracted]);
const blob = Buffer.from('a binary the dispatcher holds\n');

function settings(url: string, extra: Record<string, string> = {}): DispatcherSettings {
  const { values, errors } = dispatcherConfig.validate({ 'dispatcher.url': url, ...extra });
  expect(errors).toEqual([]);
  return values;
}

async function failure(promise: Promise<unknown>): Promise<DispatcherError> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (err: unknown) => ({ err }),
  );
  if (!('err' in outcome)) throw new Error(`expected a DispatcherError, got ${String(outcome.value)}`);
  expect(outcome.err).toBeInstanceOf(DispatcherError);
  return outcome.err as DispatcherError;
}

let double: DispatcherDouble;
let dispatcher: Dispatcher;
let ref: StreamRef;

beforeEach(async () => {
  double = await startDispatcherDouble();
  dispatcher = createDispatcher(settings(double.url));
  ref = { source: 'virustotal', label: 'content', sha256: double.addStream('virustotal', 'content', blob) };
});
afterEach(() => double.close());

describe('dispatcher config', () => {
  it('needs only dispatcher.url and fills the defaults', () => {
    const { values, errors } = dispatcherConfig.validate({ 'dispatcher.url': 'http://127.0.0.1:8111' });
    expect(errors).toEqual([]);
    expect(values).toEqual({ 'dispatcher.url': 'http://127.0.0.1:8111', 'dispatcher.timeout.ms': 60_000 });
    expect(dispatcherConfig.validate({}).errors).toEqual([{ field: 'dispatcher.url', message: 'is required' }]);
  });

  it('names every bad field', () => {
    const { errors } = dispatcherConfig.validate({ 'dispatcher.url': 'azul:8111 ', 'dispatcher.streams.url': 'ftp://azul/', 'dispatcher.timeout.ms': '10' });
    const message = (field: string) => errors.find((e) => e.field === field)?.message;
    expect(errors.map((e) => e.field).sort()).toEqual(['dispatcher.streams.url', 'dispatcher.timeout.ms', 'dispatcher.url']);
    expect(message('dispatcher.url')).toMatch(/http:\/\/ or https:\/\//);
    expect(message('dispatcher.streams.url')).toMatch(/"ftp:\/\/azul\/"/);
    expect(message('dispatcher.timeout.ms')).toMatch(/at least 1000/);
    expect(dispatcherConfig.validate({ 'dispatcher.url': 'not a url' }).errors[0]?.message).toMatch(/is not a URL/);
    expect(dispatcherConfig.validate({ 'dispatcher.url': 'http://azul:8111/?x=1' }).errors[0]?.message).toMatch(/without query/);
  });

  it('refuses to build a client without dispatcher.url, saying which key to set', () => {
    expect(() => createDispatcher({ 'dispatcher.timeout.ms': 1000 } as unknown as DispatcherSettings)).toThrow(/dispatcher\.url is required/);
  });

  it('keeps the token secret', () => {
    expect(dispatcherConfig.isSecret('dispatcher.auth.token')).toBe(true);
    expect(dispatcherConfig.isSecret('dispatcher.url')).toBe(false);
  });
});

describe('streams', () => {
  it('downloads a blob, and answers undefined for an unknown one', async () => {
    expect(await dispatcher.getStream(ref)).toEqual(blob);
    expect(await dispatcher.getStream({ ...ref, sha256: '0'.repeat(64) })).toBeUndefined();
    expect(double.requests.map((r) => [r.method, r.path, r.status])).toEqual([
      ['GET', `/api/v3/stream/virustotal/content/${ref.sha256}`, 200],
      ['GET', `/api/v3/stream/virustotal/content/${'0'.repeat(64)}`, 404],
    ]);
  });

  it('asks with HEAD whether the dispatcher holds a blob', async () => {
    expect(await dispatcher.hasStream(ref)).toBe(true);
    expect(await dispatcher.hasStream({ ...ref, label: 'other' })).toBe(false);
    expect(double.requests.map((r) => `${r.method} ${r.status}`)).toEqual(['HEAD 200', 'HEAD 404']);
  });

  it('encodes path segments and tolerates a base URL with a trailing slash', async () => {
    const odd = { source: 'my source', label: 'content#1', sha256: double.addStream('my source', 'content#1', blob) };
    expect(await createDispatcher(settings(`${double.url}/`)).getStream(odd)).toEqual(blob);
    expect(double.requests[0]?.path).toBe(`/api/v3/stream/my%20source/content%231/${odd.sha256}`);
  });

  it('uploads a blob with expected-sha256', async () => {
    const restored = Buffer.from('restored bytes');
    const upload = { source: 'virustotal', label: 'content', sha256: createHash('sha256').update(restored).digest('hex') };
    await dispatcher.postStream(upload, restored);
    const key = `virustotal/content/${upload.sha256}`;
    expect(double.streams.get(key)).toEqual(restored);
    expect(double.streamPosts.map((p) => p.key)).toEqual([key]);
    const seen = double.requests[0]!;
    expect(seen.path).toBe(`/api/v3/stream/virustotal/content?skip-identify=true&expected-sha256=${upload.sha256}`);
    expect(seen.headers['content-type']).toBe('application/octet-stream');
  });

  it("fails permanently, with the dispatcher's reason, when it refuses the bytes", async () => {
    const err = await failure(dispatcher.postStream({ ...ref, label: 'copy' }, Buffer.from('other bytes')));
    expect(err).toMatchObject({ transient: false, status: 400 });
    expect(err.message).toMatch(
      /^POST http:\/\/127\.0\.0\.1:\d+\/api\/v3\/stream\/virustotal\/copy\?.* answered 400 \(Bad Request: body sha256 \w+ does not match/,
    );
    expect(err.message).toMatch(/\[sha256_mismatch\].*check the backed-up copy/);
    expect(double.streamPosts).toEqual([]);
  });

  it('fails permanently when a 200 does not confirm the sha256', async () => {
    double.fail({ method: 'POST', status: 200, body: { data: { sha256: 'f'.repeat(64) }, errors: [] }, times: 1 });
    const wrong = await failure(dispatcher.postStream(ref, blob));
    expect(wrong).toMatchObject({ transient: false, status: 200 });
    expect(wrong.message).toMatch(/says it stored sha256 f{64}, not .*HEAD/);

    double.fail({ method: 'POST', status: 200, garbage: true, times: 1 });
    expect((await failure(dispatcher.postStream(ref, blob))).message).toMatch(/did not answer the documented .*bytes of non-text/);
  });
});

describe('event bulks', () => {
  it('posts an Avro bulk with pause_plugins and gets the totals', async () => {
    expect(await dispatcher.postEvents('binary', bulk)).toEqual({ kind: 'posted', totalOk: 2, totalFailures: 0, failures: [] });
    expect(double.events).toEqual([
      { model: 'binary', bytes: augmented },
      { model: 'binary', bytes: extracted },
    ]);
    expect(double.bulks).toMatchObject([{ model: 'binary', count: 2 }]);
    const seen = double.requests[0]!;
    expect(seen.path).toBe('/api/v2/event?model=binary&avro-format=true&sync=true&include_ok=false&pause_plugins=true');
    expect(seen.headers['content-type']).toBe('application/avro');
  });

  it('reports partial failures without throwing', async () => {
    double.judge = (_model, bytes) => (bytes.equals(extracted) ? 'fail' : 'ok');
    expect(await dispatcher.postEvents('binary', bulk)).toEqual({
      kind: 'posted',
      totalOk: 1,
      totalFailures: 1,
      failures: [{ event: KAFKA_KEY, error: 'refused by the test judge' }],
    });
    expect(double.events.map((e) => e.bytes)).toEqual([augmented]);
  });

  it('answers filtered, not an error, for a bulk the dispatcher filtered whole (425)', async () => {
    double.judge = () => 'filtered';
    expect(await dispatcher.postEvents('binary', bulk)).toEqual({
      kind: 'filtered',
      errorEnum: 'all_filtered',
      detail: 'Too Early: all 2 events were filtered out [all_filtered]',
    });
    expect(double.events).toEqual([]);

    double.fail({ status: 425, garbage: true });
    expect(await dispatcher.postEvents('binary', bulk)).toMatchObject({ kind: 'filtered', errorEnum: 'unknown' });
  });

  it('fails permanently on invalid events (422), naming title, detail and error_enum', async () => {
    const err = await failure(dispatcher.postEvents('binary', Buffer.from('not an avro bulk')));
    expect(err).toMatchObject({ transient: false, status: 422 });
    expect(err.message).toMatch(
      /^POST http:\/\/127\.0\.0\.1:\d+\/api\/v2\/event\?model=binary&.* answered 422 \(Unprocessable Entity: not a Bulk binary event: .*\[invalid_events\]\); .*model version/,
    );
    expect(double.bulks).toEqual([]);
  });

  it("fails permanently on a 200 it cannot read: the bulk's fate is unknown", async () => {
    double.fail({ status: 200, garbage: true, times: 1 });
    const garbage = await failure(dispatcher.postEvents('binary', bulk));
    expect(garbage).toMatchObject({ transient: false, status: 200 });
    expect(garbage.message).toMatch(/answered 200 with \d+ bytes of non-text instead of .*fate is unknown/);

    double.fail({ status: 200, body: { ok: true }, times: 1 });
    expect((await failure(dispatcher.postEvents('binary', bulk))).message).toMatch(/answered 200 with "\{"ok":true\}" instead/);
  });
});

describe('failure classification', () => {
  it.each([500, 503, 429])('%i is transient and named with method, URL and status', async (status) => {
    double.fail({ status });
    const err = await failure(dispatcher.getStream(ref));
    expect(err).toMatchObject({ transient: true, status });
    expect(err.message).toMatch(
      new RegExp(`^GET ${double.url}/api/v3/stream/virustotal/content/${ref.sha256} answered ${status} \\(Injected: .*\\); transient: retry later`),
    );
  });

  it.each([
    [400, /retrying will not help/],
    [401, /check dispatcher\.auth\.token/],
    [403, /check dispatcher\.auth\.token/],
  ])('%i is permanent', async (status, advice) => {
    double.fail({ status });
    const err = await failure(dispatcher.hasStream(ref));
    expect(err).toMatchObject({ transient: false, status });
    expect(err.message).toMatch(advice);
  });

  it('a route the server does not know is permanent and points at the URL', async () => {
    const wrong = createDispatcher(settings(`${double.url}/not-azul`));
    const err = await failure(wrong.postEvents('binary', bulk));
    expect(err).toMatchObject({ transient: false, status: 404 });
    expect(err.message).toMatch(/\/not-azul\/api\/v2\/event.* answered 404 .*points at an Azul dispatcher/);
  });

  it('a dropped connection or a refused one is transient', async () => {
    double.fail({ reset: true, times: 1 });
    const reset = await failure(dispatcher.postEvents('binary', bulk));
    expect(reset).toMatchObject({ transient: true, status: undefined });
    expect(reset.message).toMatch(/^POST .*\/api\/v2\/event\?.*: network error \(.+\); transient/);

    await double.close();
    const refused = await failure(dispatcher.hasStream(ref));
    expect(refused).toMatchObject({ transient: true, status: undefined });
    expect(refused.message).toMatch(/network error \(ECONNREFUSED\)/);
    double = await startDispatcherDouble(); // for afterEach
  });

  it('a dispatcher that never answers times out as transient after dispatcher.timeout.ms', async () => {
    const impatient = createDispatcher(settings(double.url, { 'dispatcher.timeout.ms': '1000' }));
    double.fail({ path: /\/api\/v3\/stream\//, hang: true });
    const started = Date.now();
    const err = await failure(impatient.getStream(ref));
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(err).toMatchObject({ transient: true, status: undefined });
    expect(err.message).toMatch(/no answer within 1000 ms; .*raise dispatcher\.timeout\.ms/);
  });

  it('a failure injected once is followed by the real answer; a delay alone only slows it', async () => {
    double.fail({ method: 'GET', status: 503, times: 1 });
    await failure(dispatcher.getStream(ref));
    expect(await dispatcher.getStream(ref)).toEqual(blob);
    double.fail({ delayMs: 150 });
    const started = Date.now();
    expect(await dispatcher.hasStream(ref)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(double.requests.map((r) => r.status)).toEqual([503, 200, 200]);
  });
});

describe('auth and routing', () => {
  it('sends the token as a bearer header and never puts it in a message', async () => {
    const withToken = createDispatcher(settings(double.url, { 'dispatcher.auth.token': 's3cret-token' }));
    await withToken.postEvents('binary', bulk);
    await dispatcher.hasStream(ref);
    expect(double.requests.map((r) => r.headers.authorization)).toEqual(['Bearer s3cret-token', undefined]);

    double.fail({ status: 500 });
    const err = await failure(withToken.getStream(ref));
    expect(err.message).toContain(double.url);
    expect(err.message).not.toContain('s3cret-token');
  });

  it('sends stream calls to dispatcher.streams.url and events to dispatcher.url', async () => {
    const streamsDouble = await startDispatcherDouble();
    try {
      const sha256 = streamsDouble.addStream('virustotal', 'content', blob);
      const split = createDispatcher(settings(double.url, { 'dispatcher.streams.url': streamsDouble.url }));
      expect(split.description).toBe(`Azul dispatcher at ${double.url} (streams at ${streamsDouble.url})`);
      expect(await split.getStream({ ...ref, sha256 })).toEqual(blob);
      await split.postStream({ source: 'virustotal', label: 'copy', sha256 }, blob);
      expect((await split.postEvents('binary', bulk)).kind).toBe('posted');
      expect(streamsDouble.requests.map((r) => r.method + ' ' + r.path.split('?')[0])).toEqual([
        `GET /api/v3/stream/virustotal/content/${sha256}`,
        'POST /api/v3/stream/virustotal/copy',
      ]);
      expect(double.requests.map((r) => r.path.split('?')[0])).toEqual(['/api/v2/event']);
    } finally {
      await streamsDouble.close();
    }
  });
});

describe('the double itself', () => {
  it('refuses a bulk posted without pause_plugins=true, so a restore that forgets it fails', async () => {
    const res = await fetch(`${double.url}/api/v2/event?model=binary&avro-format=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/avro' },
      body: bulk,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error_enum: 'plugins_not_paused' });
    expect(double.events).toEqual([]);
  });

  it('serves servedBytes instead of the real blob when a test asks it to', async () => {
    const sha256 = double.addStream('virustotal', 'content', blob, { servedBytes: Buffer.from('corrupt') });
    expect(await dispatcher.getStream({ ...ref, sha256 })).toEqual(Buffer.from('corrupt'));
  });
});
