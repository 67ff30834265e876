/** A task's own durable key/value state, stored in the worker's checkpoint store under the task's namespace. */
export interface TaskStateStore {
  get<T = unknown>(key: string): Promise<T | undefined>;
  /** Durable on return (fsync'd or acknowledged by the store). */
  put(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
}
