// docker-compose.yml, the Dockerfile and their config files cannot be run in CI
// (no Docker engine there), so this test checks them by parsing: the services and
// ports the docs promise exist, every file they mount is in the repository, and
// the worker's port and config path agree across compose, Dockerfile and config.
import { describe, it, expect } from 'vitest';
import { parse } from 'yaml';
import { existsSync, readFileSync } from 'node:fs';
import { join, normalize, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (rel: string): string => readFileSync(join(ROOT, rel), 'utf8');

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function asObj(v: unknown, what: string): Obj {
  if (!isObj(v)) throw new Error(`${what} is not a mapping`);
  return v;
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

const compose = asObj(parse(read('docker-compose.yml')), 'docker-compose.yml');
const services = asObj(compose.services, 'services');

function service(name: string): Obj {
  return asObj(services[name], `service ${name}`);
}

/** Host ports a service publishes, from the short ("H:C", "IP:H:C") or long syntax. */
function publishedPorts(name: string): number[] {
  const out: number[] = [];
  for (const p of asArray(service(name).ports)) {
    if (isObj(p)) {
      if (p.published !== undefined) out.push(Number(p.published));
      continue;
    }
    const spec = String(p).replace(/\/(tcp|udp)$/, '');
    const parts = spec.split(':');
    // "C" alone publishes on a random host port: nothing to promise.
    if (parts.length >= 2) out.push(Number(parts[parts.length - 2]));
  }
  return out;
}

interface Mount {
  type: 'bind' | 'volume';
  source: string;
  target: string;
}

/** A service's volumes, short ("src:dst[:mode]") or long syntax. */
function mounts(name: string): Mount[] {
  return asArray(service(name).volumes).map((v): Mount => {
    if (isObj(v)) {
      const source = String(v.source ?? '');
      const type = v.type === 'bind' ? 'bind' : 'volume';
      return { type, source, target: String(v.target ?? '') };
    }
    const [source = '', target = ''] = String(v).split(':');
    const bind = source.startsWith('.') || source.startsWith('/') || source.startsWith('~');
    return { type: bind ? 'bind' : 'volume', source, target };
  });
}

const allBindMounts = (): Mount[] =>
  Object.keys(services).flatMap((name) => mounts(name).filter((m) => m.type === 'bind'));

/** The Dockerfile's instructions of its final stage, continuation lines joined. */
function finalStage(): { instr: string; args: string }[] {
  const lines = read('Dockerfile')
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const parsed = lines.map((l) => {
    const m = /^(\S+)\s*(.*)$/.exec(l);
    return { instr: (m?.[1] ?? '').toUpperCase(), args: m?.[2] ?? '' };
  });
  let start = -1;
  parsed.forEach((p, i) => {
    if (p.instr === 'FROM') start = i;
  });
  if (start < 0) throw new Error('Dockerfile has no FROM');
  return parsed.slice(start);
}

function instruction(name: string): string {
  const found = finalStage().filter((p) => p.instr === name);
  const last = found[found.length - 1];
  if (!last) throw new Error(`Dockerfile's final stage has no ${name}`);
  return last.args;
}

describe('docker-compose.yml', () => {
  it('defines the five services', () => {
    for (const name of ['kafka', 'minio', 'worker', 'prometheus', 'grafana']) {
      expect(services, `service ${name}`).toHaveProperty(name);
      expect(isObj(services[name]), `service ${name} is a mapping`).toBe(true);
    }
  });

  it('publishes the documented ports', () => {
    expect(publishedPorts('kafka')).toContain(29092);
    expect(publishedPorts('minio')).toEqual(expect.arrayContaining([9000, 9001]));
    expect(publishedPorts('worker')).toContain(8083);
    expect(publishedPorts('prometheus')).toContain(9090);
    expect(publishedPorts('grafana')).toContain(3000);
  });

  it('runs Kafka in KRaft mode with an internal and an external listener', () => {
    const env = asObj(service('kafka').environment, 'kafka environment');
    expect(String(env.KAFKA_PROCESS_ROLES)).toBe('broker,controller');
    const advertised = String(env.KAFKA_ADVERTISED_LISTENERS).split(',');
    expect(advertised).toContain('PLAINTEXT://kafka:9092');
    expect(advertised).toContain('EXTERNAL://localhost:29092');
    const healthcheck = asObj(service('kafka').healthcheck, 'kafka healthcheck');
    expect(JSON.stringify(healthcheck.test)).toContain('kafka-broker-api-versions.sh');
  });

  it('builds the worker from the repository and mounts a valid config', () => {
    const worker = service('worker');
    const build = isObj(worker.build) ? worker.build.context : worker.build;
    expect(build).toBe('.');

    const configMount = mounts('worker').find((m) => m.target === '/etc/coldstore/worker.json');
    expect(configMount, 'worker mounts /etc/coldstore/worker.json').toBeDefined();
    expect(configMount?.type).toBe('bind');
    const source = configMount?.source ?? '';
    expect(existsSync(join(ROOT, source)), `${source} exists`).toBe(true);

    const config = asObj(JSON.parse(read(source)), source);
    expect(config['rest.port']).toBe(8083);
    expect(publishedPorts('worker')).toContain(Number(config['rest.port']));
    // Reachable from outside the container, and pointed at the compose broker.
    expect(config['rest.host']).toBe('0.0.0.0');
    const kafkaEnv = asObj(service('kafka').environment, 'kafka environment');
    const internal = String(kafkaEnv.KAFKA_ADVERTISED_LISTENERS)
      .split(',')
      .map((l) => l.replace(/^[A-Z_]+:\/\//, ''));
    expect(internal).toContain(config['bootstrap.servers']);
    // The data directory is the worker's persistent volume.
    const dataMount = mounts('worker').find((m) => m.target === config['data.dir']);
    expect(dataMount?.type, `${String(config['data.dir'])} is a named volume`).toBe('volume');
  });

  it('bind-mounts only files and directories that exist in the repository', () => {
    const binds = allBindMounts();
    // worker config, prometheus.yml, grafana provisioning and dashboards
    expect(binds.length).toBeGreaterThanOrEqual(4);
    for (const m of binds) {
      expect(m.source.startsWith('./'), `${m.source} is relative to the repository`).toBe(true);
      const rel = normalize(m.source);
      expect(rel.startsWith('..'), `${m.source} stays inside the repository`).toBe(false);
      expect(existsSync(join(ROOT, rel)), `${m.source} exists`).toBe(true);
    }
  });

  it('declares every named volume it uses', () => {
    const declared = Object.keys(asObj(compose.volumes, 'volumes'));
    const used = Object.keys(services).flatMap((name) =>
      mounts(name)
        .filter((m) => m.type === 'volume')
        .map((m) => m.source),
    );
    expect(used).toEqual(expect.arrayContaining(['kafka-data', 'minio-data', 'coldstore-data', 'grafana-data']));
    for (const v of used) expect(declared, `volume ${v} declared`).toContain(v);
  });

  it('has Prometheus scrape the worker', () => {
    const promMount = mounts('prometheus').find((m) => m.target === '/etc/prometheus/prometheus.yml');
    expect(promMount?.source).toBe('./config/prometheus.yml');

    const prom = asObj(parse(read('config/prometheus.yml')), 'prometheus.yml');
    const jobs = asArray(prom.scrape_configs).filter(isObj);
    const job = jobs.find((j) => j.job_name === 'coldstore');
    expect(job, 'job coldstore').toBeDefined();
    expect(job?.metrics_path).toBe('/metrics');
    const targets = asArray(job?.static_configs)
      .filter(isObj)
      .flatMap((sc) => asArray(sc.targets).map(String));
    expect(targets).toContain('worker:8083');
  });

  it('provisions Grafana with the Prometheus datasource and the dashboards folder', () => {
    const ds = asObj(parse(read('config/grafana/provisioning/datasources/prometheus.yml')), 'datasources');
    const prometheus = asArray(ds.datasources)
      .filter(isObj)
      .find((d) => d.uid === 'prometheus');
    expect(prometheus?.type).toBe('prometheus');
    expect(prometheus?.url).toBe('http://prometheus:9090');

    const dashboards = asObj(parse(read('config/grafana/provisioning/dashboards/coldstore.yml')), 'dashboards');
    const paths = asArray(dashboards.providers)
      .filter(isObj)
      .map((p) => (isObj(p.options) ? p.options.path : undefined));
    const dashMount = mounts('grafana').find((m) => m.source === './config/grafana/dashboards');
    expect(dashMount?.target).toBe('/var/lib/grafana/dashboards');
    expect(paths).toContain(dashMount?.target);
  });
});

describe('Dockerfile', () => {
  it('exposes the port the worker listens on', () => {
    const ports = instruction('EXPOSE')
      .split(/\s+/)
      .map((p) => Number(p.replace(/\/tcp$/, '')));
    expect(ports).toContain(8083);
    const config = asObj(JSON.parse(read('config/worker.docker.json')), 'worker.docker.json');
    expect(ports).toContain(config['rest.port']);
    expect(instruction('HEALTHCHECK')).toContain('port:8083');
  });

  it("starts the worker with the config file compose mounts", () => {
    const cmd: unknown = JSON.parse(instruction('CMD'));
    expect(Array.isArray(cmd)).toBe(true);
    const args = asArray(cmd).map(String);
    const i = args.indexOf('--config');
    expect(i, 'CMD has --config').toBeGreaterThanOrEqual(0);
    const configPath = args[i + 1];
    const targets = mounts('worker').map((m) => m.target);
    expect(targets).toContain(configPath);
    expect(posix.isAbsolute(configPath ?? '')).toBe(true);

    const entrypoint: unknown = JSON.parse(instruction('ENTRYPOINT'));
    expect(entrypoint).toEqual(['node', 'dist/runtime/cli/main.js']);
  });

  it('runs as a non-root user', () => {
    const user = instruction('USER');
    expect(['', 'root', '0']).not.toContain(user.trim());
  });
});

describe('docs/docker-compose.md', () => {
  it('mentions every published port', () => {
    const doc = read('docs/docker-compose.md');
    const ports = Object.keys(services).flatMap(publishedPorts);
    expect(ports.length).toBeGreaterThanOrEqual(6);
    for (const port of ports) {
      expect(new RegExp(`\\b${port}\\b`).test(doc), `port ${port} in docs/docker-compose.md`).toBe(true);
    }
  });
});
