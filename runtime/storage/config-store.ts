import type { RawConfig } from '../api/config-def.js';
import type { CheckpointStore } from './checkpoint-store.js';

export type TargetState = 'RUNNING' | 'PAUSED' | 'STOPPED';

/** The desired state of one connector as the user asked for it; placeholders stay unresolved. */
export interface ConnectorRecord {
  name: string;
  config: RawConfig;
  target: TargetState;
}

const NAMESPACE = 'connectors';

/** Connector configs persisted in the checkpoint store, so a restarted worker resumes its connectors. */
export class ConfigStore {
  constructor(private readonly store: CheckpointStore) {}

  async list(): Promise<ConnectorRecord[]> {
    return Object.values(await this.store.read(NAMESPACE)) as ConnectorRecord[];
  }

  put(record: ConnectorRecord): Promise<void> {
    return this.store.write(NAMESPACE, { [record.name]: record });
  }

  remove(name: string): Promise<void> {
    return this.store.write(NAMESPACE, { [name]: null });
  }
}
