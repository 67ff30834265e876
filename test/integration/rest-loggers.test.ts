/**
 * /admin/loggers on a real worker process: its log file shows debug lines only while a PUT
 * has set DEBUG, every line carries its level as a name, and the answers have Kafka
 * Connect's shapes.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_UNUSED_NAMES } from '../../runtime/telemetry/log-levels.js';
import { bootstrap } from '../helpers/kafka.js';
import { restCall } from '../helpers/rest.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { freePort, WorkerProcess } from '../helpers/worker-process.js';

let worker: WorkerProcess;

beforeAll(async () => {
  worker = new WorkerProcess(tmpDir('loggers'), await freePort(), { 'bootstrap.servers': bootstrap(), 'worker.id': uniqueName('loggers') });
  await worker.start();
});

afterAll(async () => {
  await worker?.terminate();
});

type Line = { level: unknown; msg: string; url?: string; logger?: string };

function logLines(): Line[] {
  return readFileSync(worker.logPath, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);
}

/**
 * Sets a level and waits for the info line that says so: the worker writes its log in order,
 * so once that line is in the file, so is every line written before it.
 */
async function setLevel(name: string, level: string): Promise<string[]> {
  const before = logLines().length;
  const res = await restCall(worker.url, 'PUT', `/admin/loggers/${name}`, { level });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  await waitFor(`the log line of ${name}=${level}`, () =>
    logLines()
      .slice(before)
      .some((l) => l.msg === 'log level changed' && l.logger === name),
  );
  return res.body as string[];
}

describe('/admin/loggers', () => {
  it('PUT root DEBUG makes the worker write debug lines, PUT root INFO stops them', async () => {
    const requestLines = (marker: string) => logLines().filter((l) => l.msg === 'REST request' && l.url?.includes(marker));

    expect((await restCall(worker.url, 'GET', '/connectors?marker=before')).status).toBe(200);
    expect(await setLevel('root', 'DEBUG')).toContain('root');
    expect(requestLines('marker=before')).toEqual([]);

    expect((await restCall(worker.url, 'GET', '/connectors?marker=during')).status).toBe(200);
    await waitFor('the debug line of the request', () => requestLines('marker=during').length === 1);
    expect(requestLines('marker=during')[0]!.level).toBe('debug');
    const root = await restCall(worker.url, 'GET', '/admin/loggers/root');
    expect(root.body).toEqual({ level: 'DEBUG', last_modified: expect.any(Number) });

    await setLevel('root', 'INFO');
    expect((await restCall(worker.url, 'GET', '/connectors?marker=after')).status).toBe(200);
    // A later info line proves the request's line, had there been one, would be in the file by now.
    await setLevel('connector.none-yet', 'INFO');
    expect(requestLines('marker=after')).toEqual([]);

    // Every line names its level; none carries pino's numbers.
    const levels = new Set(logLines().map((l) => l.level));
    expect([...levels].filter((l) => !['trace', 'debug', 'info', 'warn', 'error', 'fatal'].includes(l as string))).toEqual([]);
    expect(levels.has('debug') && levels.has('info')).toBe(true);
  });

  it('answers Kafka Connect shapes and refuses what it cannot do', async () => {
    const all = await restCall(worker.url, 'GET', '/admin/loggers');
    expect(all.status).toBe(200);
    expect(all.body['root']).toEqual({ level: expect.stringMatching(/^(INFO|DEBUG)$/), last_modified: expect.any(Number) });
    expect(all.body['backups']).toEqual({ level: expect.any(String), last_modified: expect.anything() });

    const connector = uniqueName('later');
    expect((await restCall(worker.url, 'PUT', `/admin/loggers/connector.${connector}`, { level: 'trace' })).body).toEqual([`connector.${connector}`]);
    expect((await restCall(worker.url, 'GET', `/admin/loggers/connector.${connector}`)).body).toEqual({ level: 'TRACE', last_modified: expect.any(Number) });

    const badLevel = await restCall(worker.url, 'PUT', '/admin/loggers/root', { level: 'VERBOSE' });
    expect(badLevel.status).toBe(400);
    expect(badLevel.body.message).toMatch(/Unknown log level "VERBOSE": use one of OFF, FATAL, ERROR, WARN, INFO, DEBUG, TRACE/);
    expect((await restCall(worker.url, 'PUT', '/admin/loggers/root', {})).status).toBe(400);

    const cluster = await restCall(worker.url, 'PUT', '/admin/loggers/root?scope=cluster', { level: 'DEBUG' });
    expect(cluster.status).toBe(400);
    expect(cluster.body.message).toMatch(/per worker/);

    const unknown = await restCall(worker.url, 'GET', '/admin/loggers/org.apache.kafka.connect');
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('LOGGER_NOT_FOUND');
    expect((await restCall(worker.url, 'PUT', '/admin/loggers/org.apache.kafka.connect', { level: 'DEBUG' })).status).toBe(404);
  });

  it("a deleted connector's names are forgotten, with the levels set for them", async () => {
    const name = uniqueName('gone');
    const config = { 'connector.class': 'FileStreamSink', topics: 'never-produced', file: '/dev/null' };
    expect((await restCall(worker.url, 'POST', '/connectors', { name, config, initial_state: 'STOPPED' })).status).toBe(201);
    await setLevel(`connector.${name}`, 'DEBUG');
    await setLevel(`connector.${name}.task.0`, 'TRACE');
    expect(Object.keys((await restCall(worker.url, 'GET', '/admin/loggers')).body)).toEqual(
      expect.arrayContaining([`connector.${name}`, `connector.${name}.task.0`]),
    );
    expect((await restCall(worker.url, 'DELETE', `/connectors/${name}`)).status).toBe(204);
    const after = Object.keys((await restCall(worker.url, 'GET', '/admin/loggers')).body);
    expect(after.filter((n) => n.startsWith(`connector.${name}`))).toEqual([]);
    expect((await restCall(worker.url, 'GET', `/admin/loggers/connector.${name}`)).status).toBe(404);
  });

  it(`names set before any logger of theirs exists are capped at ${MAX_UNUSED_NAMES}; names in use and names already set stay settable`, async () => {
    const prefix = uniqueName('cap');
    let refused: { status: number; body: any } | undefined;
    let accepted = 0;
    for (let i = 0; i <= MAX_UNUSED_NAMES && !refused; i++) {
      const res = await restCall(worker.url, 'PUT', `/admin/loggers/connector.${prefix}-${i}`, { level: 'DEBUG' });
      if (res.status === 200) accepted++;
      else refused = res;
    }
    expect(refused?.status).toBe(400);
    expect(refused?.body.message).toMatch(new RegExp(`at most ${MAX_UNUSED_NAMES}.*once its connector exists`));
    // Earlier tests set a few such names too: together they reach the cap exactly.
    expect(accepted).toBeGreaterThan(MAX_UNUSED_NAMES - 10);
    const all = (await restCall(worker.url, 'GET', '/admin/loggers')).body;
    expect(Object.keys(all).length).toBeLessThan(MAX_UNUSED_NAMES + 20);
    expect((await restCall(worker.url, 'PUT', `/admin/loggers/connector.${prefix}-0`, { level: 'INFO' })).status).toBe(200);
    expect((await restCall(worker.url, 'PUT', '/admin/loggers/backups', { level: 'INFO' })).status).toBe(200);
    expect((await restCall(worker.url, 'PUT', '/admin/loggers/root', { level: 'INFO' })).status).toBe(200);
  });
});
