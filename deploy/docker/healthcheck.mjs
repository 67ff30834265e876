// The image's HEALTHCHECK: GET /health on the worker, where its own config says it
// listens. Exit 0 when the answer is 2xx, 1 otherwise (with the reason on stderr).
//
//   node healthcheck.mjs [worker.json]
//
// The config file is, in order: the argument, the `--config` of the container's main
// process (PID 1: the worker, started by the image's ENTRYPOINT), /etc/coldstore/worker.json.
// It is parsed by the worker's own parser, so defaults and ${env:...}/${file:...}
// placeholders mean what they mean to the worker.
import { readFileSync, readlinkSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { checkServerIdentity } from 'node:tls';
import { resolve } from 'node:path';

const TIMEOUT_MS = 4_000;
const { parseWorkerConfig } = await import(new URL('../../dist/runtime/config/worker-config.js', import.meta.url).href);

function fail(message) {
  process.stderr.write(`healthcheck: ${message}\n`);
  process.exit(1);
}

/** The worker process's `--config`, resolved against its working directory. */
function mainProcessConfig() {
  // PID 1 in the container; another process can be named (the tests do).
  const pid = process.env.COLDSTORE_MAIN_PID ?? '1';
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const i = args.indexOf('--config');
    if (i < 0 || !args[i + 1]) return undefined;
    return resolve(readlinkSync(`/proc/${pid}/cwd`), args[i + 1]);
  } catch {
    return undefined;
  }
}

const configPath = process.argv[2] ?? mainProcessConfig() ?? '/etc/coldstore/worker.json';
let config;
try {
  config = parseWorkerConfig(JSON.parse(readFileSync(configPath, 'utf8')));
} catch (err) {
  fail(`cannot read the worker config ${configPath}: ${err.message}`);
}

const port = config['rest.port'];
if (port === 0) fail(`${configPath} has rest.port 0 (a random port): the health check cannot know it; set a fixed port`);
// A worker bound to every address answers on loopback; one bound to a single address only there.
const bound = config['rest.host'];
const host = bound === '0.0.0.0' || bound === '' ? '127.0.0.1' : bound === '::' ? '::1' : bound;
const tls = Boolean(config['rest.tls.cert.file']);

const options = { host, port, path: '/health', method: 'GET', timeout: TIMEOUT_MS };
if (tls) {
  const caFile = config['rest.tls.ca.file'] ?? config['rest.tls.cert.file'];
  options.ca = readFileSync(caFile);
  // The certificate names the worker as the others reach it (rest.advertised.url), not
  // as the loopback address: check that name; without one, the chain is still checked.
  const advertised = config['rest.advertised.url'] ? new URL(config['rest.advertised.url']).hostname : undefined;
  if (advertised && isIP(advertised) === 0) options.servername = advertised;
  options.checkServerIdentity = (_host, cert) => (advertised ? checkServerIdentity(advertised, cert) : undefined);
}

const req = (tls ? httpsRequest : httpRequest)(options, (res) => {
  res.resume();
  const ok = res.statusCode >= 200 && res.statusCode < 300;
  if (!ok) fail(`GET ${tls ? 'https' : 'http'}://${host}:${port}/health answered ${res.statusCode}`);
  process.exit(0);
});
req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
req.on('error', (err) => fail(`GET ${tls ? 'https' : 'http'}://${host}:${port}/health: ${err.message}`));
req.end();
