/**
 * Where offsets and task progress live. Entries are grouped in namespaces
 * (one per connector's offsets, one per task's own state); a write to one
 * namespace is atomic: all of its entries land or none do.
 */
export type CheckpointEntries = Record<string, unknown>;

export interface CheckpointStore {
  read(namespace: string): Promise<CheckpointEntries>;
  /** Applies the entries (null deletes a key) atomically; durable on return. */
  write(namespace: string, entries: Record<string, unknown | null>): Promise<void>;
  /** Removes a whole namespace (connector deleted, offsets reset). */
  drop(namespace: string): Promise<void>;
  /** Namespaces starting with this prefix. */
  list(prefix: string): Promise<string[]>;
  close(): Promise<void>;
}

export const namespaces = {
  sinkOffsets: (connector: string) => `sink-offsets/${connector}`,
  sourceOffsets: (connector: string) => `source-offsets/${connector}`,
  taskState: (connector: string, task: number) => `task-state/${connector}/${task}`,
  taskStatePrefix: (connector: string) => `task-state/${connector}/`,
  connectorState: (connector: string) => `connector-state/${connector}`,
  activeTopics: (connector: string) => `connector-topics/${connector}`,
};
