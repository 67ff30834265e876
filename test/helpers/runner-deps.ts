import type { TaskStateStore } from '../../runtime/api/index.js';
import type { CheckpointStore } from '../../runtime/storage/checkpoint-store.js';
import { createLogger } from '../../runtime/telemetry/logger.js';
import { Metrics } from '../../runtime/telemetry/metrics.js';
import type { TaskRunnerDeps } from '../../runtime/worker/task-runner.js';

/** The checkpoint store in memory, with every write kept for assertions. */
export class MemoryCheckpointStore implements CheckpointStore {
  readonly namespaces = new Map<string, Record<string, unknown>>();
  readonly writes: { namespace: string; entries: Record<string, unknown> }[] = [];

  async read(namespace: string): Promise<Record<string, unknown>> {
    return { ...(this.namespaces.get(namespace) ?? {}) };
  }

  async write(namespace: string, entries: Record<string, unknown>): Promise<void> {
    this.writes.push({ namespace, entries });
    const next = { ...(this.namespaces.get(namespace) ?? {}) };
    for (const [key, value] of Object.entries(entries)) {
      if (value === null) delete next[key];
      else next[key] = value;
    }
    this.namespaces.set(namespace, next);
  }

  async drop(namespace: string): Promise<void> {
    this.namespaces.delete(namespace);
  }

  async list(prefix: string): Promise<string[]> {
    return [...this.namespaces.keys()].filter((n) => n.startsWith(prefix));
  }

  async close(): Promise<void> {}
}

function memoryState(): TaskStateStore {
  const entries = new Map<string, unknown>();
  return {
    get: async <T>(key: string) => entries.get(key) as T | undefined,
    put: async (key, value) => void entries.set(key, value),
    delete: async (key) => void entries.delete(key),
  };
}

/** What every task runner needs besides its task and its Kafka client: quiet logs, unexported metrics. */
export function runnerDeps(connector = 'c'): TaskRunnerDeps {
  return {
    connector,
    taskId: 0,
    workerId: 'w',
    log: createLogger('silent'),
    metrics: new Metrics({ taskStates: () => [], sinkPositions: () => [] }),
    shutdownTimeoutMs: 10_000,
    redact: (text) => text,
    taskMetrics: { add: () => undefined, record: () => undefined, set: () => undefined },
    connectorState: memoryState(),
  };
}
