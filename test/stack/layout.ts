/**
 * Where the local test stack keeps its files and which ports its servers use. Everything
 * lives under `<repo>/.stack/` (git-ignored); ports come from the environment at call time.
 */
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ServiceName = 'kafka' | 's3' | 'kms';
export const SERVICES: readonly ServiceName[] = ['kafka', 's3', 'kms'];

export interface StackEndpoints {
  kafkaBootstrap: string;
  s3Endpoint: string;
  s3AccessKey: string;
  s3SecretKey: string;
  s3Region: string;
  /** moto's KMS: any credentials are accepted; keys live in its memory only. */
  kmsEndpoint: string;
  kmsRegion: string;
}

export const S3_ACCESS_KEY = 'coldstore';
export const S3_SECRET_KEY = 'coldstore-secret';
export const S3_REGION = 'us-east-1';
export const KMS_REGION = 'us-east-1';

/** test/stack/layout.ts -> repo root; works from any cwd. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const STACK_DIR = join(REPO_ROOT, '.stack');
export const MAVEN_LOG = join(STACK_DIR, 'maven.log');
export const MOTO_VENV = join(STACK_DIR, 'moto-venv');
/** The Python entry point of the KMS server; being in this checkout, it also tells our moto from another's. */
export const KMS_SERVER_SCRIPT = join(REPO_ROOT, 'test', 'stack', 'kms-server.py');

export interface ServicePaths {
  dir: string;
  data: string;
  lib: string;
  /** The config file (kms: the server script) named on the command line, which identifies our process. */
  config: string;
  log: string;
  pid: string;
}

const DIR_NAMES: Record<ServiceName, string> = { kafka: 'kafka', s3: 's3proxy', kms: 'kms' };
const CONFIG_NAMES: Record<ServiceName, string> = { kafka: 'server.properties', s3: 's3proxy.conf', kms: '' };

export function paths(name: ServiceName): ServicePaths {
  const base = DIR_NAMES[name];
  const dir = join(STACK_DIR, base);
  return {
    dir,
    data: join(dir, 'data'),
    lib: join(STACK_DIR, 'lib', base),
    config: name === 'kms' ? KMS_SERVER_SCRIPT : join(dir, CONFIG_NAMES[name]),
    log: join(dir, `${base}.log`),
    pid: join(dir, `${base}.pid`),
  };
}

export const PORT_VARIABLES: Record<ServiceName, string> = {
  kafka: 'COLDSTORE_STACK_KAFKA_PORT',
  s3: 'COLDSTORE_STACK_S3_PORT',
  kms: 'COLDSTORE_STACK_KMS_PORT',
};

function portFromEnv(variable: string, fallback: number): number {
  const raw = process.env[variable];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  // 65534: Kafka's controller listens on port + 1.
  if (!Number.isInteger(port) || port < 1 || port > 65534) {
    throw new Error(`${variable}=${raw} is not a valid TCP port`);
  }
  return port;
}

/** Read at call time, not import time, so tests and the CLI can set the env first. */
export function ports(): { kafka: number; kafkaController: number; s3: number; kms: number } {
  const kafka = portFromEnv(PORT_VARIABLES.kafka, 39092);
  return {
    kafka,
    kafkaController: kafka + 1,
    s3: portFromEnv(PORT_VARIABLES.s3, 39000),
    kms: portFromEnv(PORT_VARIABLES.kms, 39100),
  };
}

export function stackEndpoints(): StackEndpoints {
  const p = ports();
  return {
    kafkaBootstrap: `127.0.0.1:${p.kafka}`,
    s3Endpoint: `http://127.0.0.1:${p.s3}`,
    s3AccessKey: S3_ACCESS_KEY,
    s3SecretKey: S3_SECRET_KEY,
    s3Region: S3_REGION,
    kmsEndpoint: `http://127.0.0.1:${p.kms}`,
    kmsRegion: KMS_REGION,
  };
}

export function endpointOf(name: ServiceName): string {
  const e = stackEndpoints();
  return { kafka: e.kafkaBootstrap, s3: e.s3Endpoint, kms: e.kmsEndpoint }[name];
}

/** The port that answers health checks. */
export function servicePort(name: ServiceName): number {
  return ports()[name];
}

/** The ports a service binds: Kafka also needs its controller port. */
export function boundPorts(name: ServiceName): number[] {
  const p = ports();
  return name === 'kafka' ? [p.kafka, p.kafkaController] : [p[name]];
}
