/** The Kafka and S3Proxy jars from Maven Central, fetched once; a marker written after success makes it idempotent. */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAVEN_LOG, paths, REPO_ROOT } from './layout.js';
import { appendBanner, failure, runLogged } from './processes.js';
import { S3PROXY_VERSION } from './s3proxy.js';

const KAFKA_POM = join(REPO_ROOT, 'test', 'stack', 'maven', 'pom.xml');

/** The services that run from jars (the KMS server is a Python venv: scripts/setup-moto.sh). */
export const JAR_SERVICES = ['kafka', 's3'] as const;
type JarService = (typeof JAR_SERVICES)[number];

export async function ensureJars(name: JarService, log: (line: string) => void): Promise<void> {
  const lib = paths(name).lib;
  const marker = join(lib, '.fetched');
  // The marker names what was fetched, so a version bump in the pom fetches again.
  const wanted = name === 'kafka' ? readFileSync(KAFKA_POM, 'utf8') : `s3proxy ${S3PROXY_VERSION}`;
  if (existsSync(marker) && readFileSync(marker, 'utf8') === wanted) return;
  rmSync(lib, { recursive: true, force: true });
  mkdirSync(lib, { recursive: true });
  log(`fetching ${name} jars from Maven Central into ${lib} (first run only)…`);
  const args =
    name === 'kafka'
      ? ['-B', '-q', '-f', KAFKA_POM, 'dependency:copy-dependencies', `-DoutputDirectory=${lib}`, '-DincludeScope=runtime']
      : ['-B', '-q', 'dependency:copy', `-Dartifact=org.gaul:s3proxy:${S3PROXY_VERSION}:jar:jar-with-dependencies`, `-DoutputDirectory=${lib}`];
  appendBanner(MAVEN_LOG, `fetching ${name}`);
  // cwd = the lib dir, so `dependency:copy` never picks up an unrelated pom.xml.
  const code = await runLogged('mvn', args, MAVEN_LOG, lib).catch((err: Error) => {
    throw failure(`could not run mvn (is Maven installed?): ${err.message}`, MAVEN_LOG);
  });
  if (code !== 0) throw failure(`mvn failed (exit ${code}) fetching ${name} jars`, MAVEN_LOG);
  writeFileSync(marker, wanted);
}

/** Fetches every server's jars without starting anything (setup scripts, CI caches). */
export async function fetchStackJars(log: (line: string) => void = () => {}): Promise<void> {
  for (const name of JAR_SERVICES) await ensureJars(name, log);
}
