/** librdkafka properties for every client the worker creates: the worker's connection settings plus per-use overrides. */
export type KafkaClientConfig = Record<string, unknown>;

export interface KafkaConnection {
  bootstrapServers: string;
  /** Extra librdkafka properties (security, timeouts) from the worker's `kafka.*` keys. */
  extra: KafkaClientConfig;
}

export function clientConfig(conn: KafkaConnection, clientId: string, overrides: KafkaClientConfig = {}): KafkaClientConfig {
  return {
    'bootstrap.servers': conn.bootstrapServers,
    'client.id': clientId,
    ...conn.extra,
    ...overrides,
  };
}
