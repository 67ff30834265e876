/**
 * A single-node KRaft Kafka broker owned by one fault test: its own data dir and ports,
 * so the test can kill it and start it again (same data, same ports) without touching the
 * shared stack on 127.0.0.1:39092. It runs from the jars `test/stack/jars.ts` fetched
 * into `.stack/lib/kafka` (the global setup brings the stack up first, so they are there).
 *
 * Also the two client helpers a test needs against this broker, since the shared helpers
 * (`test/helpers/kafka.ts`, `broker-records.ts`) are bound to the shared stack: produce
 * and read back with kcat, an independent client.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '../helpers/worker-process.js';
import { KAFKA_LOG4J, kafkaClusterId } from '../stack/stack.js';

const execFileAsync = promisify(execFile);
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const KAFKA_LIB = join(REPO_ROOT, '.stack', 'lib', 'kafka');
const READY_TIMEOUT_MS = 120_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A SASL_SSL listener (SCRAM-SHA-512 over TLS) beside the plaintext one, as production clusters have. */
export interface SaslSslOptions {
  /** PEM file holding the broker's PKCS#8 private key and its certificate chain. */
  keystore: string;
  /** SCRAM-SHA-512 users, made when the storage is formatted. */
  users: Record<string, string>;
}

export class PrivateKafka {
  private child: ChildProcess | undefined;
  readonly bootstrap: string;
  private readonly config: string;
  private readonly data: string;
  readonly logFile: string;
  /** How many times the broker was started (the first start formats the storage). */
  starts = 0;

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly controllerPort: number,
    /** The SASL_SSL listener's port and settings, when the broker has one. */
    readonly saslSsl?: SaslSslOptions & { port: number },
  ) {
    this.bootstrap = `127.0.0.1:${port}`;
    this.config = join(dir, 'server.properties');
    this.data = join(dir, 'data');
    this.logFile = join(dir, 'kafka.log');
  }

  /** A broker on two free ports (client, controller), not started yet. */
  static async create(dir: string, options: { saslSsl?: SaslSslOptions } = {}): Promise<PrivateKafka> {
    const taken = new Set<number>();
    const next = async () => {
      let port = await freePort();
      while (taken.has(port)) port = await freePort();
      taken.add(port);
      return port;
    };
    const port = await next();
    const controller = await next();
    return new PrivateKafka(dir, port, controller, options.saslSsl ? { ...options.saslSsl, port: await next() } : undefined);
  }

  /** The SASL_SSL listener's address (the plaintext one stays for kcat and the test's own checks). */
  get secureBootstrap(): string {
    if (!this.saslSsl) throw new Error('this broker has no SASL_SSL listener');
    return `127.0.0.1:${this.saslSsl.port}`;
  }

  private secureListenerConfig(): string[] {
    const s = this.saslSsl;
    if (!s) return [];
    return [
      'sasl.enabled.mechanisms=SCRAM-SHA-512',
      'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
      'listener.name.sasl_ssl.ssl.keystore.type=PEM',
      `listener.name.sasl_ssl.ssl.keystore.location=${s.keystore}`,
    ];
  }

  private writeConfig(): void {
    mkdirSync(this.data, { recursive: true });
    const secure = this.saslSsl ? `,SASL_SSL://127.0.0.1:${this.saslSsl.port}` : '';
    writeFileSync(
      this.config,
      [
        'process.roles=broker,controller',
        'node.id=1',
        `controller.quorum.voters=1@127.0.0.1:${this.controllerPort}`,
        `listeners=PLAINTEXT://127.0.0.1:${this.port},CONTROLLER://127.0.0.1:${this.controllerPort}${secure}`,
        `advertised.listeners=PLAINTEXT://127.0.0.1:${this.port}${secure}`,
        'controller.listener.names=CONTROLLER',
        'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL',
        ...this.secureListenerConfig(),
        'inter.broker.listener.name=PLAINTEXT',
        `log.dirs=${this.data}`,
        'offsets.topic.replication.factor=1',
        // Few internal partitions: a restart reloads them quickly.
        'offsets.topic.num.partitions=4',
        'transaction.state.log.replication.factor=1',
        'transaction.state.log.min.isr=1',
        'transaction.state.log.num.partitions=4',
        'group.initial.rebalance.delay.ms=0',
        '',
      ].join('\n'),
    );
    writeFileSync(join(this.dir, 'log4j.properties'), KAFKA_LOG4J);
  }

  private jvm(heap: string | null): string[] {
    return [...(heap ? [heap] : []), '-cp', `${KAFKA_LIB}/*`, `-Dlog4j.configuration=file:${join(this.dir, 'log4j.properties')}`];
  }

  private async run(args: string[]): Promise<void> {
    const log = openSync(this.logFile, 'a');
    try {
      const code = await new Promise<number>((done, fail) => {
        const child = spawn('java', args, { cwd: this.dir, stdio: ['ignore', log, log] });
        child.once('error', fail);
        child.once('exit', (c) => done(c ?? 1));
      });
      if (code !== 0) throw new Error(`${args.join(' ')} exited ${code}; see ${this.logFile}`);
    } finally {
      closeSync(log);
    }
  }

  /** Starts the broker (formatting its storage the first time only) and waits until it answers metadata requests. */
  async start(): Promise<void> {
    if (this.running) return;
    if (!existsSync(join(KAFKA_LIB, '.fetched'))) throw new Error(`no Kafka jars in ${KAFKA_LIB}: bring the stack up once (npm run stack -- up)`);
    mkdirSync(this.dir, { recursive: true });
    if (this.starts === 0) this.writeConfig();
    if (!existsSync(join(this.data, 'meta.properties'))) {
      const scram = Object.entries(this.saslSsl?.users ?? {}).flatMap(([name, password]) => [
        '--add-scram',
        `SCRAM-SHA-512=[name=${name},password=${password}]`,
      ]);
      await this.run([...this.jvm(null), 'kafka.tools.StorageTool', 'format', '-t', kafkaClusterId(), '-c', this.config, ...scram]);
    }
    writeFileSync(this.logFile, `\n===== private kafka start ${this.starts + 1} at ${new Date().toISOString()} =====\n`, { flag: 'a' });
    const log = openSync(this.logFile, 'a');
    try {
      this.child = spawn('java', [...this.jvm('-Xmx512m'), 'kafka.Kafka', this.config], { cwd: this.dir, stdio: ['ignore', log, log] });
    } finally {
      closeSync(log);
    }
    this.child.once('error', () => {});
    this.starts++;
    // The JVM must not outlive the test process if a test dies without its afterAll.
    const child = this.child;
    process.once('exit', () => child.kill('SIGKILL'));
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!(await this.answers())) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`private Kafka on ${this.bootstrap} exited during start; see ${this.logFile}:\n${this.tail()}`);
      if (Date.now() > deadline)
        throw new Error(`private Kafka on ${this.bootstrap} not ready within ${READY_TIMEOUT_MS / 1000} s; see ${this.logFile}:\n${this.tail()}`);
      await sleep(500);
    }
  }

  /**
   * Stops the broker: SIGKILL (a crash or a cut cable: no controlled shutdown, log recovery
   * on the next start) or SIGTERM (a controlled shutdown). Its data stays.
   */
  async stop(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const ended = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await ended;
    clearTimeout(timer);
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The broker's JVM while it runs (a nemesis pauses it with SIGSTOP). */
  get pid(): number | undefined {
    return this.running ? this.child!.pid : undefined;
  }

  /** Ready when a metadata request lists a broker (kcat, so no client library state is involved). */
  private async answers(): Promise<boolean> {
    try {
      const { stdout } = await execFileAsync('kcat', ['-L', '-J', '-b', this.bootstrap, '-m', '3'], { timeout: 10_000 });
      return (JSON.parse(stdout) as { brokers?: unknown[] }).brokers?.length === 1;
    } catch {
      return false;
    }
  }

  private tail(lines = 30): string {
    if (!existsSync(this.logFile)) return '';
    return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  }
}

/** Produces `key:value` lines to one partition with kcat (acks=all, idempotent), resolving once all are acknowledged. */
export async function produceTo(bootstrap: string, topic: string, partition: number, lines: readonly string[]): Promise<void> {
  await new Promise<void>((done, fail) => {
    const child = spawn('kcat', ['-P', '-b', bootstrap, '-t', topic, '-p', String(partition), '-K', ':', '-X', 'enable.idempotence=true'], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`kcat -P exited ${code}: ${stderr}`))));
    child.stdin.end(`${lines.join('\n')}\n`);
  });
}

export interface TextRecord {
  partition: number;
  offset: bigint;
  key: string;
  value: string;
}

/**
 * Every committed record of these partitions as a read_committed consumer sees it, in
 * offset order per partition (kcat; keys and values are the text the tests produce).
 */
export async function readTextRecords(bootstrap: string, topic: string, partitions: number): Promise<TextRecord[]> {
  const out: TextRecord[] = [];
  for (let p = 0; p < partitions; p++) {
    const { stdout } = await execFileAsync(
      'kcat',
      ['-C', '-b', bootstrap, '-t', topic, '-p', String(p), '-o', 'beginning', '-e', '-q', '-X', 'isolation.level=read_committed', '-f', '%o\t%k\t%s\n'],
      { maxBuffer: 256 * 1024 * 1024, timeout: 120_000 },
    );
    for (const line of stdout.split('\n')) {
      if (!line) continue;
      const [offset, key, value] = line.split('\t');
      out.push({ partition: p, offset: BigInt(offset!), key: key!, value: value! });
    }
  }
  return out;
}
