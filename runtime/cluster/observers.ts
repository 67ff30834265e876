import type { Connector, ConnectorPlugin } from '../api/connector.js';
import { configFingerprint } from '../config/fingerprint.js';
import { resolvePlaceholders } from '../config/placeholders.js';
import type { ConnectorRecord } from '../storage/config-store.js';
import { taskLogger } from '../worker/task-context.js';
import type { Worker } from '../worker/worker.js';

/**
 * Connector instances the leader starts as observers (`context.observer`), one per
 * connector and config, so the product can ask a connector that runs on another worker
 * (backups by id). They write nothing and run no tasks; dropped when leadership ends.
 */
export class Observers {
  private readonly started = new Map<string, { version: string; connector: Promise<Connector | undefined> }>();

  constructor(private readonly worker: Worker) {}

  get(record: ConnectorRecord, plugin: ConnectorPlugin): Promise<Connector | undefined> {
    const name = record.name;
    const version = configFingerprint(record.config);
    const existing = this.started.get(name);
    if (existing?.version === version) return existing.connector;
    this.drop(name);
    const connector = (async () => {
      const instance = plugin.create();
      const log = this.worker.log.child({ connector: name, observer: true });
      try {
        await instance.start(resolvePlaceholders(record.config).config, { name, log: taskLogger(log), cluster: this.worker.cluster, observer: true });
        return instance;
      } catch (err) {
        log.warn({ err }, 'could not start the connector as an observer for backups by id');
        this.started.delete(name);
        return undefined;
      }
    })();
    this.started.set(name, { version, connector });
    return connector;
  }

  drop(name: string): void {
    const observer = this.started.get(name);
    this.started.delete(name);
    void observer?.connector.then((c) => c?.stop()).catch(() => undefined);
  }

  dropAll(): void {
    for (const name of [...this.started.keys()]) this.drop(name);
  }
}
