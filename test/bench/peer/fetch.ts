/**
 * Jars of the benchmark's peer: a Kafka Connect worker and the S3 sink plugin, fetched from
 * Maven Central once into `<repo>/.stack/lib/peer-aiven/` (beside the stack's own jar cache,
 * git-ignored), plus the plugin's one class of glue compiled with the JDK's javac.
 * A marker holding what was fetched (the pom, or the Java source) makes later runs instant
 * and refetches after an edit.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const CACHE = resolve(HERE, '..', '..', '..', '.stack', 'lib', 'peer-aiven');
const MAVEN_LOG = join(CACHE, 'maven.log');

export interface PeerJars {
  /** The worker's classpath: every jar in it (`<dir>/*`). */
  connectLib: string;
  /** Connect's plugin.path: one plugin directory inside, the S3 sink with its own dependencies. */
  pluginPath: string;
  /** The sink connector's class, inside the plugin. */
  connectorClass: string;
}

export const CONNECTOR_CLASS = 'coldstore.bench.peer.AivenCommonsS3Sink$Connector';

/** Runs a command, output appended to `logFile`; rejects with the log's tail on a non-zero exit. */
async function run(cmd: string, args: string[], cwd: string, logFile: string): Promise<void> {
  const fd = openSync(logFile, 'a');
  try {
    writeFileSync(logFile, `$ ${cmd} ${args.join(' ')}\n`, { flag: 'a' });
    const code = await new Promise<number>((resolvePromise, reject) => {
      const child = spawn(cmd, args, { cwd, stdio: ['ignore', fd, fd] });
      child.once('error', reject);
      child.once('exit', (c) => resolvePromise(c ?? 1));
    });
    if (code !== 0) {
      const tail = readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-30).join('\n');
      throw new Error(`${cmd} exited ${code}\n--- tail of ${logFile} ---\n${tail}`);
    }
  } finally {
    closeSync(fd);
  }
}

/** Fills `dir` from `marker`-guarded work, redoing it when `wanted` (what it was made from) changed. */
async function cached(dir: string, wanted: string, make: () => Promise<void>): Promise<void> {
  const marker = join(dir, '.fetched');
  if (existsSync(marker) && readFileSync(marker, 'utf8') === wanted) return;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await make();
  writeFileSync(marker, wanted);
}

async function copyDependencies(pom: string, into: string, log: (line: string) => void): Promise<void> {
  await cached(into, readFileSync(pom, 'utf8'), async () => {
    log(`peer: fetching ${pom} from Maven Central into ${into} (first run only)…`);
    // cwd = the target dir, so Maven never picks up an unrelated pom.xml.
    await run('mvn', ['-B', '-q', '-f', pom, 'dependency:copy-dependencies', `-DoutputDirectory=${into}`, '-DincludeScope=runtime'], into, MAVEN_LOG);
  });
}

export async function ensurePeerJars(log: (line: string) => void): Promise<PeerJars> {
  mkdirSync(CACHE, { recursive: true });
  const connectLib = join(CACHE, 'connect');
  const pluginPath = join(CACHE, 'plugins');
  const plugin = join(pluginPath, 'aiven-commons-s3');
  await copyDependencies(join(HERE, 'maven', 'connect', 'pom.xml'), connectLib, log);
  await copyDependencies(join(HERE, 'maven', 'plugin', 'pom.xml'), plugin, log);

  const source = join(HERE, 'AivenCommonsS3Sink.java');
  const glue = join(CACHE, 'glue');
  const jar = join(plugin, 'coldstore-aiven-commons-s3.jar');
  if (!existsSync(jar)) rmSync(glue, { recursive: true, force: true }); // the plugin dir was refetched
  await cached(glue, readFileSync(source, 'utf8'), async () => {
    log('peer: compiling AivenCommonsS3Sink.java…');
    const classes = join(glue, 'classes');
    const services = join(classes, 'META-INF', 'services');
    mkdirSync(services, { recursive: true });
    await run('javac', ['--release', '17', '-nowarn', '-d', classes, '-cp', `${connectLib}/*:${plugin}/*`, source], glue, MAVEN_LOG);
    // A ServiceLoader manifest lets Connect find the connector without scanning every jar.
    writeFileSync(join(services, 'org.apache.kafka.connect.sink.SinkConnector'), `${CONNECTOR_CLASS}\n`);
    await run('jar', ['--create', '--file', jar, '-C', classes, '.'], glue, MAVEN_LOG);
  });
  return { connectLib, pluginPath, connectorClass: CONNECTOR_CLASS };
}
