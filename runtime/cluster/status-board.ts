import type { ConnectorStatus } from '../herder/connector-instance.js';
import { namespaces } from '../storage/checkpoint-store.js';
import type { KafkaCheckpointStore } from '../storage/kafka-checkpoint-store.js';
import { forgetActiveTopics } from '../worker/active-topics.js';
import type { State, TaskStatus } from '../worker/task-status.js';
import type { Assignment } from './assignor.js';
import { taskUnit } from './assignor.js';

export interface WorkerEntry {
  url: string;
  startedAt: string;
}

interface Published {
  state: State;
  worker_id: string;
  trace?: string;
  progress?: Record<string, unknown>;
}

const WORKERS = 'workers';
const CONNECTORS = 'connector-status';
const TASKS = 'task-status';
const NOT_STOPPED = new Set<State>(['RUNNING', 'PAUSED', 'UNASSIGNED', 'RESTARTING']);

/**
 * The status topic: each worker publishes the states of what it runs; every worker reads
 * everyone's, so any of them answers the same status. A state counts only while its
 * publisher is the unit's owner in the current assignment: a worker that died or lost a
 * unit leaves a stale entry that shows as UNASSIGNED on the new owner until it reports.
 */
export class StatusBoard {
  constructor(
    private readonly store: KafkaCheckpointStore,
    private readonly workerId: string,
  ) {}

  registerWorker(entry: WorkerEntry): Promise<void> {
    return this.store.write(WORKERS, { [this.workerId]: entry });
  }

  unregisterWorker(): Promise<void> {
    return this.store.write(WORKERS, { [this.workerId]: null });
  }

  worker(id: string): WorkerEntry | undefined {
    return this.store.table.get<WorkerEntry>(WORKERS, id);
  }

  /**
   * Writes the entries that differ from what the topic holds: a unit that comes back to
   * this worker after another one reported it is reported again. `tasks` is every task
   * this worker runs: the entries it published for tasks it no longer runs are removed,
   * so a task shown by this worker is one that has not finished stopping (a topics reset
   * waits for that).
   */
  async publish(connectors: Map<string, Published>, tasks: Map<string, Published>): Promise<void> {
    for (const [namespace, entries] of [
      [CONNECTORS, connectors],
      [TASKS, tasks],
    ] as const) {
      const changed: Record<string, unknown> = {};
      for (const [key, value] of entries) if (JSON.stringify(this.store.table.get(namespace, key)) !== JSON.stringify(value)) changed[key] = value;
      if (namespace === TASKS) {
        for (const [key, value] of Object.entries(this.store.table.entries(TASKS))) {
          if (!entries.has(key) && (value as Published | null)?.worker_id === this.workerId) changed[key] = null;
        }
      }
      if (Object.keys(changed).length > 0) await this.store.write(namespace, changed);
    }
  }

  /** The connector's tasks a live worker still shows as running or about to run (not yet stopped), e.g. `backup/0 on w2 (RUNNING)`. */
  tasksNotStopped(connector: string, liveWorkers: readonly string[]): string[] {
    return Object.entries(this.store.table.entries(TASKS))
      .filter(([key]) => key.startsWith(`${connector}/`))
      .map(([key, value]) => [key, value as Published | null] as const)
      .filter(([, p]) => p && liveWorkers.includes(p.worker_id) && NOT_STOPPED.has(p.state))
      .map(([key, p]) => `${key} on ${p!.worker_id} (${p!.state})`)
      .sort();
  }

  /** The topics the connector's tasks recorded here (KIP-558), as this worker has read them, sorted. */
  activeTopics(connector: string): string[] {
    return Object.keys(this.store.table.entries(namespaces.activeTopics(connector))).sort();
  }

  forgetActiveTopics(connector: string): Promise<void> {
    return forgetActiveTopics(this.store, connector);
  }

  /** Forgets a deleted connector's entries, its active topics included (the leader does it once). */
  async forget(connector: string, tasks: number): Promise<void> {
    await this.store.write(CONNECTORS, { [connector]: null });
    await this.forgetActiveTopics(connector);
    const keys = Object.keys(this.store.table.entries(TASKS)).filter((k) => k.startsWith(`${connector}/`));
    if (keys.length > 0 || tasks > 0) await this.store.write(TASKS, Object.fromEntries(keys.map((k) => [k, null])));
  }

  connectorStatus(name: string, type: 'sink' | 'source', taskCount: number, assignment: Assignment): ConnectorStatus {
    const shown = (published: Published | undefined, owner: string | undefined) =>
      published && published.worker_id === owner ? published : { state: 'UNASSIGNED' as State, worker_id: owner ?? '' };
    const connector = shown(this.store.table.get<Published>(CONNECTORS, name), assignment.connectors[name]);
    const tasks: TaskStatus[] = Array.from({ length: taskCount }, (_, id) => {
      const unit = taskUnit(name, id);
      return { id, ...shown(this.store.table.get<Published>(TASKS, unit), assignment.tasks[unit]) };
    });
    return { name, connector: { state: connector.state, worker_id: connector.worker_id, ...(connector.trace ? { trace: connector.trace } : {}) }, tasks, type };
  }
}
