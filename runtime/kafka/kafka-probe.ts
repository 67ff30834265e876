import KafkaLib from '@confluentinc/kafka-javascript';
import type { LibrdKafkaError } from '@confluentinc/kafka-javascript';
import { CachedCheck, type CheckResult } from '../support/cached-check.js';
import { clientConfig, type KafkaConnection } from './client-config.js';
import { connectClient } from './connect.js';

type ProbeClient = InstanceType<typeof KafkaLib.Producer>;

/** librdkafka's `metadata` debug line for each Metadata response (rdkafka_metadata.c). */
const CLUSTER_ID_LINE = /ClusterId: ([A-Za-z0-9_-]+), ControllerId/;

/**
 * Kafka for GET /ready and GET /: reachable (one Metadata request for no topics, at most
 * every `intervalMs`, answered within `timeoutMs`) and the cluster's id. The client
 * library exposes neither rd_kafka_clusterid() nor DescribeCluster, so the id is read from
 * librdkafka's `metadata` debug line, which this client of its own (and only it) turns on
 * and receives as log events; each probe's Metadata response refreshes it.
 */
export class KafkaProbe {
  private client: ProbeClient | undefined;
  private connecting: Promise<ProbeClient> | undefined;
  private id: string | null = null;
  private closed = false;
  private readonly check: CachedCheck;

  constructor(
    private readonly connection: KafkaConnection,
    private readonly clientId: string,
    options: { intervalMs?: number; timeoutMs?: number } = {},
  ) {
    const timeoutMs = options.timeoutMs ?? 3_000;
    this.check = new CachedCheck((signal) => this.metadata(timeoutMs, signal), options.intervalMs ?? 5_000, timeoutMs + 500);
  }

  /** Whether Kafka answered the latest probe (run now if the last one is older than the interval). */
  result(): Promise<CheckResult> {
    return this.check.result();
  }

  /** The cluster id: known after the first probe that reached Kafka; null until then. */
  async clusterId(): Promise<string | null> {
    if (this.id === null) await this.result();
    return this.id;
  }

  private async metadata(timeoutMs: number, signal: AbortSignal): Promise<void> {
    const client = await this.connected(timeoutMs);
    await new Promise<void>((resolve, reject) => {
      signal.addEventListener('abort', () => reject(new Error('no metadata answer in time')), { once: true });
      client.getMetadata({ timeout: timeoutMs, allTopics: false } as never, (err: LibrdKafkaError | null) =>
        err ? reject(new Error(`metadata request to ${this.connection.bootstrapServers} failed: ${err.message}`)) : resolve(),
      );
    });
  }

  /** The probe's client, connected once (librdkafka then reconnects by itself); a failed connect is retried next probe. */
  private connected(timeoutMs: number): Promise<ProbeClient> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= new Promise<ProbeClient>((resolve, reject) => {
      const client = new KafkaLib.Producer(clientConfig(this.connection, this.clientId, { debug: 'metadata' }) as never, {});
      client.on('event.log', (event: { message?: string }) => {
        const found = CLUSTER_ID_LINE.exec(event.message ?? '');
        if (found) this.id = found[1]!;
      });
      // connect() sends the first Metadata request and fails when it gets no answer; a refused password or certificate is named.
      connectClient(client as never, { timeout: timeoutMs, allTopics: false }, `connect to ${this.connection.bootstrapServers}`).then(
        () => {
          this.connecting = undefined;
          if (this.closed) {
            client.disconnect(() => undefined);
            return reject(new Error('the probe was closed'));
          }
          this.client = client;
          resolve(client);
        },
        (err: Error) => {
          this.connecting = undefined;
          reject(new Error(`cannot reach Kafka at ${this.connection.bootstrapServers}: ${err.message}`));
        },
      );
    });
    return this.connecting;
  }

  close(): void {
    this.closed = true;
    this.client?.disconnect(() => undefined);
    this.client = undefined;
  }
}
