import type { TaskLogger } from '../api/task-logger.js';
import type { TaskStateStore } from '../api/task-state.js';
import type { CheckpointStore } from '../storage/checkpoint-store.js';
import type { Logger } from '../telemetry/logger.js';

/** A task's state store: its own namespace in the worker's checkpoint store. */
export function taskStateStore(store: CheckpointStore, namespace: string): TaskStateStore {
  return {
    async get<T>(key: string) {
      return (await store.read(namespace))[key] as T | undefined;
    },
    put: (key, value) => store.write(namespace, { [key]: value }),
    delete: (key) => store.write(namespace, { [key]: null }),
  };
}

export function taskLogger(log: Logger): TaskLogger {
  return {
    debug: (fields, msg) => log.debug(fields, msg),
    info: (fields, msg) => log.info(fields, msg),
    warn: (fields, msg) => log.warn(fields, msg),
    error: (fields, msg) => log.error(fields, msg),
  };
}
