import KafkaLib from '@confluentinc/kafka-javascript';
import { clientConfig, type KafkaConnection } from './client-config.js';
import { fromKafkaError } from './errors.js';

const { AdminClient, CODES } = KafkaLib;

/** The few cluster operations the runtime needs (offset resets, topic creation). */
export class KafkaAdmin {
  private readonly admin: ReturnType<typeof AdminClient.create>;

  constructor(connection: KafkaConnection, clientId: string) {
    this.admin = AdminClient.create(clientConfig(connection, clientId) as never);
  }

  /** Deletes a consumer group; a group that does not exist counts as deleted. */
  deleteGroup(groupId: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.admin.deleteGroups([groupId], { timeout: 10_000 }, (err, results) => {
        if (err) return reject(fromKafkaError(err, `delete group ${groupId}`));
        const failure = results?.find((r) => r.error && r.error.code !== CODES.ERRORS.ERR_GROUP_ID_NOT_FOUND);
        if (failure?.error) return reject(fromKafkaError(failure.error, `delete group ${groupId}`));
        resolve();
      });
    });
  }

  createTopic(topic: string, partitions: number, config: Record<string, string> = {}): Promise<void> {
    return new Promise((resolve, reject) => {
      this.admin.createTopic({ topic, num_partitions: partitions, replication_factor: -1, config }, 15_000, (err) => {
        if (err && err.code !== CODES.ERRORS.ERR_TOPIC_ALREADY_EXISTS) return reject(fromKafkaError(err, `create topic ${topic}`));
        resolve();
      });
    });
  }

  disconnect(): void {
    this.admin.disconnect();
  }
}
