// The connector examples for docker-compose.yml (config/docker/*.json): each is a valid
// POST /connectors body for the compose workers, checked by the same validation the REST
// API answers (the real plugin registry, in-process), with the ${env:...} values the
// compose workers have; its store is the compose S3 server, by service name and port.
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { builtInPlugins } from '../../connectors/index.js';
import { validateWithPlugin } from '../../runtime/herder/herder.js';
import { PluginRegistry } from '../../runtime/plugins/registry.js';
import { environment, mounts, services } from '../helpers/compose-file.js';
import { ROOT, asObj, read } from '../helpers/repo-files.js';

const DIR = 'config/docker';
const WORKERS = ['worker', 'worker-2'];
const examples = readdirSync(join(ROOT, DIR))
  .filter((f) => f.endsWith('.json'))
  .sort();

function example(file: string): { name: string; config: Record<string, string> } {
  const body = asObj(JSON.parse(read(`${DIR}/${file}`)), file);
  const config = asObj(body.config, `${file} config`);
  for (const [k, v] of Object.entries(config)) expect(typeof v, `${file}: ${k} is a string, as the REST API takes it`).toBe('string');
  expect(typeof body.name, `${file} has a name`).toBe('string');
  return { name: String(body.name), config: config as Record<string, string> };
}

const envPlaceholders = (config: Record<string, string>): string[] =>
  Object.values(config).flatMap((v) => [...v.matchAll(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1] ?? ''));

/** Validates as PUT /connector-plugins/{class}/config/validate does, with `env` set (undefined: unset). */
function validate(config: Record<string, string>, env: Record<string, string | undefined>) {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return validateWithPlugin(new PluginRegistry(builtInPlugins), String(config['connector.class']), config);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const errorsOf = (result: ReturnType<typeof validate>) => result.configs.flatMap((c) => c.value.errors.map((e) => `${c.definition.name}: ${e}`));

describe('config/docker connector examples', () => {
  it('has a BackupSink and a RestoreSource of the same backup', () => {
    expect(examples).toEqual(['backup.json', 'restore.json']);
    const backup = example('backup.json').config;
    const restore = example('restore.json').config;
    expect(backup['connector.class']).toBe('BackupSink');
    expect(restore['connector.class']).toBe('RestoreSource');
    for (const key of ['backup.label', 'storage.type', 's3.endpoint', 's3.path.style', 's3.region']) expect(restore[key], key).toBe(backup[key]);
  });

  it.each(examples)("%s is valid for the connector's declared config, with the compose workers' environment", (file) => {
    const { name, config } = example(file);
    const names = envPlaceholders(config);
    expect(names.length, `${file} takes its credentials from the environment`).toBeGreaterThan(0);
    for (const worker of WORKERS) {
      const env = environment(worker);
      for (const name of names) expect(env, `${worker} has ${name}`).toHaveProperty(name);
      // POST /connectors validates the body's config with the connector's name added.
      const result = validate({ ...config, name }, Object.fromEntries(names.map((n) => [n, String(env[n])])));
      expect(errorsOf(result), `${file} on ${worker}`).toEqual([]);
      expect(result.error_count).toBe(0);
    }
  });

  it.each(examples)('%s is refused where its environment variables are missing', (file) => {
    const { name, config } = example(file);
    const errors = errorsOf(validate({ ...config, name }, Object.fromEntries(envPlaceholders(config).map((n) => [n, undefined]))));
    expect(
      errors.some((e) => e.includes('AWS_SECRET_ACCESS_KEY')),
      errors.join('; '),
    ).toBe(true);
  });

  it.each(examples)('%s writes to the compose S3 server, by its service name and port, with its credentials', (file) => {
    const { config } = example(file);
    expect(config['storage.type']).toBe('s3');
    expect(config['s3.path.style']).toBe('true');
    const endpoint = new URL(String(config['s3.endpoint']));
    expect(Object.keys(services)).toContain(endpoint.hostname);
    const s3 = environment(endpoint.hostname);
    const listening = new URL(String(s3['S3PROXY_ENDPOINT']));
    expect(endpoint.protocol).toBe(listening.protocol);
    expect(endpoint.port).toBe(listening.port);
    for (const worker of WORKERS) {
      const env = environment(worker);
      const resolve = (v: string | undefined) => String(v).replace(/\$\{env:(\w+)\}/g, (_, n: string) => String(env[n]));
      expect(resolve(config['s3.access.key.id'])).toBe(s3['S3PROXY_IDENTITY']);
      expect(resolve(config['s3.secret.access.key'])).toBe(s3['S3PROXY_CREDENTIAL']);
    }
  });

  it('keeps the cluster topics out of the backup', () => {
    const exclude = new RegExp(`^(?:${String(example('backup.json').config['topics.exclude.regex'])})$`);
    for (const file of WORKERS.map((w) => mounts(w).find((m) => m.target === '/etc/coldstore/worker.json')?.source ?? '')) {
      const worker = asObj(JSON.parse(read(file)), file);
      for (const key of ['config.storage.topic', 'offset.storage.topic', 'status.storage.topic']) {
        expect(exclude.test(String(worker[key])), `${file}: ${key} is excluded`).toBe(true);
      }
    }
  });

  it.each(examples)('docs/docker-compose.md shows the curl that posts %s', (file) => {
    const doc = read('docs/docker-compose.md');
    const curl = new RegExp(`curl[^\\n]*-X POST[^\\n]*--data @${DIR}/${file}[^\\n]*http://localhost:8083/connectors\\b`);
    expect(doc).toMatch(curl);
  });
});
