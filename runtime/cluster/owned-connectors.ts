import { ColdstoreError, ErrorCodes } from '../api/errors.js';
import type { TransactionalWriter } from '../kafka/transactional-writer.js';
import type { KafkaCheckpointStore } from '../storage/kafka-checkpoint-store.js';
import { TASK_CONFIGS } from './config-topic.js';
import type { LocalConnector, StoredTaskConfigs } from './local-connector.js';

/**
 * The connectors this worker owns: it runs their instance and writes their task configs,
 * each through a writer of the connector's own, so the connector's next owner fences this one.
 */
export class OwnedConnectors {
  private readonly stores = new Map<string, KafkaCheckpointStore>();

  constructor(
    private readonly offsets: KafkaCheckpointStore,
    private readonly writerFor: (connector: string) => TransactionalWriter,
  ) {}

  /** Runs the connector here (and stores its task configs) when this worker owns it, else stops it here. */
  async apply(local: LocalConnector, owner: boolean): Promise<void> {
    if (!owner) {
      await local.stopConnector();
      await this.release(local.name);
      return;
    }
    let store = this.stores.get(local.name);
    if (!store) {
      store = this.offsets.withWriter(this.writerFor(local.name));
      this.stores.set(local.name, store);
      // Fences the connector's previous owner before its task configs are read and written.
      await store.read(TASK_CONFIGS);
    }
    const computed = await local.runConnector();
    if (!computed) return;
    const stored = store.table.get<StoredTaskConfigs>(TASK_CONFIGS, local.name);
    if (stored && JSON.stringify(stored) === JSON.stringify(computed)) return;
    try {
      await store.write(TASK_CONFIGS, { [local.name]: computed });
    } catch (err) {
      // Another worker owned the connector meanwhile: a new writer (fencing it back) next time.
      if (err instanceof ColdstoreError && err.code === ErrorCodes.TASK_FENCED) await this.release(local.name);
      throw err;
    }
  }

  async release(name: string): Promise<void> {
    const store = this.stores.get(name);
    this.stores.delete(name);
    await store?.close().catch(() => undefined);
  }

  async releaseAll(): Promise<void> {
    await Promise.all([...this.stores.keys()].map((name) => this.release(name)));
  }
}
