// docker-compose.yml, the Dockerfile and their config files cannot be run in CI
// (no Docker engine there), so this test checks them by parsing: the services and
// ports the docs promise exist, every image is pinned, every file they mount is in the
// repository, and the worker's port, config and data paths agree across compose,
// Dockerfile and config. The connector examples are checked in
// docker-connector-examples.test.ts, the health check script in docker-healthcheck.test.ts.
import { describe, it, expect } from 'vitest';
import { parse } from 'yaml';
import { existsSync } from 'node:fs';
import { join, normalize, posix } from 'node:path';
import { parseWorkerConfig } from '../../runtime/config/worker-config.js';
import { EXACT_IMAGE, ROOT, asArray, asObj, dockerfileStages, finalInstruction, isObj, read } from '../helpers/repo-files.js';
import { compose, mounts, publishedPorts, service, services, type Mount } from '../helpers/compose-file.js';

const allBindMounts = (): Mount[] => Object.keys(services).flatMap((name) => mounts(name).filter((m) => m.type === 'bind'));

const instruction = finalInstruction;

describe('docker-compose.yml', () => {
  it('defines the six services', () => {
    for (const name of ['kafka', 's3proxy', 'worker', 'worker-2', 'prometheus', 'grafana']) {
      expect(services, `service ${name}`).toHaveProperty(name);
      expect(isObj(services[name]), `service ${name} is a mapping`).toBe(true);
    }
  });

  it('publishes the documented ports', () => {
    expect(publishedPorts('kafka')).toContain(29092);
    expect(publishedPorts('s3proxy')).toContain(9000);
    expect(publishedPorts('worker')).toContain(8083);
    expect(publishedPorts('worker-2')).toContain(8084);
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

  it.each(['worker', 'worker-2'])('builds %s from the repository and mounts a valid config', (name) => {
    const worker = service(name);
    const build = isObj(worker.build) ? worker.build.context : worker.build;
    expect(build).toBe('.');

    const configMount = mounts(name).find((m) => m.target === '/etc/coldstore/worker.json');
    expect(configMount, 'worker mounts /etc/coldstore/worker.json').toBeDefined();
    expect(configMount?.type).toBe('bind');
    const source = configMount?.source ?? '';
    expect(existsSync(join(ROOT, source)), `${source} exists`).toBe(true);

    const config = asObj(JSON.parse(read(source)), source);
    // The worker's own parser: a key it does not know, or a bad value, fails here as at start.
    expect(() => parseWorkerConfig(config)).not.toThrow();
    expect(config['rest.port']).toBe(8083);
    const published = asArray(worker.ports).map(String);
    expect(published.some((p) => p.endsWith(`:${String(config['rest.port'])}`))).toBe(true);
    // Reachable from outside the container, and pointed at the compose broker.
    expect(config['rest.host']).toBe('0.0.0.0');
    const kafkaEnv = asObj(service('kafka').environment, 'kafka environment');
    const internal = String(kafkaEnv.KAFKA_ADVERTISED_LISTENERS)
      .split(',')
      .map((l) => l.replace(/^[A-Z_]+:\/\//, ''));
    expect(internal).toContain(config['bootstrap.servers']);
    // The data directory is the worker's persistent volume.
    const dataMount = mounts(name).find((m) => m.target === config['data.dir']);
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
    expect(used).toEqual(expect.arrayContaining(['kafka-data', 's3-data', 'coldstore-data', 'coldstore-data-2', 'grafana-data']));
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
    expect(targets).toContain('worker-2:8083');
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

describe('pinned images', () => {
  const fromImages = dockerfileStages().map((stage) => (stage[0]?.args ?? '').split(/\s+/)[0] ?? '');

  it('pins every image compose runs and the Dockerfile builds from to an exact version', () => {
    const composeImages = Object.keys(services).map((name) => String(service(name).image ?? ''));
    expect(composeImages.length).toBe(Object.keys(services).length);
    for (const image of [...composeImages, ...fromImages]) expect(image, `${image} is pinned`).toMatch(EXACT_IMAGE);
    // The pattern itself refuses what must not pass.
    for (const loose of ['prom/prometheus', 'grafana/grafana:latest', 'node:24-trixie-slim', 'node:24.22-slim', 'minio/minio:RELEASE']) {
      expect(loose).not.toMatch(EXACT_IMAGE);
    }
  });

  it('builds on the Node.js version the project runs on', () => {
    const nodeVersion = /^NODE_VERSION=(\S+)$/m.exec(read('scripts/install-node.sh'))?.[1];
    expect(nodeVersion).toMatch(/^\d+\.\d+\.\d+$/);
    expect(fromImages.length).toBe(2);
    for (const image of fromImages) expect(image).toMatch(new RegExp(`^node:${String(nodeVersion).replaceAll('.', '\\.')}-trixie-slim$`));
    const engines = String(asObj(asObj(JSON.parse(read('package.json')), 'package.json').engines, 'engines').node);
    const [minMajor = 0, minMinor = 0] = (/^>=(\d+)\.(\d+)$/.exec(engines) ?? []).slice(1).map(Number);
    const [major = 0, minor = 0] = String(nodeVersion).split('.').map(Number);
    expect(minMajor, `engines ${engines}`).toBeGreaterThan(0);
    expect(major === minMajor ? minor >= minMinor : major > minMajor, `${String(nodeVersion)} satisfies ${engines}`).toBe(true);
    // install-node.sh accepts a machine's node from the same minimum engines declares.
    expect(/^NODE_MINIMUM=(\S+)$/m.exec(read('scripts/install-node.sh'))?.[1]).toBe(`${minMajor}.${minMinor}.0`);
  });

  it("installs the runtime libraries under trixie's package names", () => {
    const runtime = dockerfileStages().at(-1) ?? [];
    const apt = runtime.find((p) => p.instr === 'RUN' && p.args.includes('apt-get install'))?.args ?? '';
    // bookworm's names do not exist in trixie (the 64-bit time_t transition renamed them).
    for (const pkg of ['libssl3t64', 'libcurl4t64', 'libsasl2-2', 'zlib1g', 'libzstd1', 'liblz4-1', 'ca-certificates']) {
      expect(apt.split(/\s+/), pkg).toContain(pkg);
    }
    for (const pkg of ['libssl3', 'libcurl4']) expect(apt.split(/\s+/), pkg).not.toContain(pkg);
  });

  it('tags the image it builds with the package version', () => {
    const version = String(asObj(JSON.parse(read('package.json')), 'package.json').version);
    for (const name of ['worker', 'worker-2']) expect(service(name).image).toBe(`coldstore:${version}`);
  });

  it("runs the S3 server of the project's test stack, with its version and settings", () => {
    const stack = read('test/stack/s3proxy.ts') + read('test/stack/layout.ts');
    const version = /const S3PROXY_VERSION = '([^']+)'/.exec(stack)?.[1];
    expect(service('s3proxy').image).toBe(`andrewgaul/s3proxy:s3proxy-${String(version)}`);
    const env = asObj(service('s3proxy').environment, 's3proxy environment');
    expect(stack).toContain(`s3proxy.authorization=${String(env.S3PROXY_AUTHORIZATION)}`);
    expect(stack).toContain(`jclouds.provider=${String(env.JCLOUDS_PROVIDER)}`);
    expect(stack).toContain(`const S3_ACCESS_KEY = '${String(env.S3PROXY_IDENTITY)}'`);
    expect(stack).toContain(`const S3_SECRET_KEY = '${String(env.S3PROXY_CREDENTIAL)}'`);
    const port = Number(new URL(String(env.S3PROXY_ENDPOINT)).port);
    expect(asArray(service('s3proxy').ports).map(String)).toContain(`${port}:${port}`);
    expect(mounts('s3proxy').find((m) => m.target === env.JCLOUDS_FILESYSTEM_BASEDIR)?.type).toBe('volume');
    for (const name of ['worker', 'worker-2']) {
      const workerEnv = asObj(service(name).environment, `${name} environment`);
      expect(workerEnv.AWS_ACCESS_KEY_ID).toBe(env.S3PROXY_IDENTITY);
      expect(workerEnv.AWS_SECRET_ACCESS_KEY).toBe(env.S3PROXY_CREDENTIAL);
    }
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
  });

  it('health-checks with the script that reads the worker config, not a fixed port', () => {
    const healthcheck = instruction('HEALTHCHECK');
    expect(healthcheck).not.toMatch(/\b8083\b|port\s*[:=]/);
    const cmd: unknown = JSON.parse(healthcheck.slice(healthcheck.indexOf('CMD') + 3).trim());
    expect(cmd).toEqual(['node', '/app/deploy/docker/healthcheck.mjs']);
    const copied = (dockerfileStages().at(-1) ?? []).filter((p) => p.instr === 'COPY').map((p) => p.args.split(/\s+/));
    expect(copied.some(([src, dst]) => src === 'deploy/docker/healthcheck.mjs' && posix.join('/app', dst ?? '') === '/app/deploy/docker/healthcheck.mjs')).toBe(
      true,
    );
    expect(existsSync(join(ROOT, 'deploy/docker/healthcheck.mjs'))).toBe(true);
  });

  it('starts the worker with the config file compose mounts', () => {
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
    expect(entrypoint).toEqual(['node', '/app/dist/app/cli/main.cjs']);
  });

  it('runs as a non-root user', () => {
    const user = instruction('USER');
    expect(['', 'root', '0']).not.toContain(user.trim());
  });

  it('keeps every path the worker writes absolute, under a directory it owns', () => {
    const runtime = dockerfileStages().at(-1) ?? [];
    const user = instruction('USER').trim();
    // Directories the final stage chowns to the runtime user, before switching to it.
    const owned = runtime
      .filter((p) => p.instr === 'RUN')
      .flatMap((p) => [...p.args.matchAll(/chown\s+(?:-R\s+)?(\S+?)(?::\S+)?\s+((?:\/\S+\s*)+)/g)])
      .filter((m) => m[1] === user)
      .flatMap((m) => (m[2] ?? '').trim().split(/\s+/));
    expect(owned.length).toBeGreaterThan(0);
    const under = (path: string) => owned.some((dir) => path === dir || path.startsWith(`${dir}/`));
    const configs = [
      'config/worker.docker.json',
      ...['worker', 'worker-2'].map((n) => mounts(n).find((m) => m.target === '/etc/coldstore/worker.json')?.source ?? ''),
    ];
    for (const file of configs) {
      const dataDir = String(parseWorkerConfig(JSON.parse(read(file)))['data.dir']);
      expect(posix.isAbsolute(dataDir), `${file}: data.dir ${dataDir} is absolute`).toBe(true);
      expect(under(dataDir), `${file}: data.dir ${dataDir} is owned by ${user}`).toBe(true);
    }
    // Relative connector paths (local.root's default) resolve against the working directory.
    const workdir = instruction('WORKDIR');
    expect(under(workdir), `WORKDIR ${workdir} is owned by ${user}`).toBe(true);
    expect(JSON.stringify(instruction('VOLUME').split(/\s+/))).toContain(workdir);
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
