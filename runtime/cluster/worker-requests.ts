import type { StateTable } from '../storage/kafka-checkpoint-store.js';
import type { WorkerRequest } from './cluster-writes.js';

/**
 * Which restart and flush requests (config-topic records with a growing `seq`) this worker
 * has acted on: each once, and none made before it started.
 */
export class WorkerRequests {
  private readonly seen = new Map<string, number>();

  skipExisting(table: StateTable, namespaces: string[]): void {
    for (const namespace of namespaces) {
      for (const [key, request] of Object.entries(table.entries(namespace) as Record<string, WorkerRequest>)) this.seen.set(`${namespace}|${key}`, request.seq);
    }
  }

  /** The requests for this connector (or one of its tasks, `<name>/<task>`) not acted on yet; marks them acted on. */
  fresh(table: StateTable, namespace: string, name: string): WorkerRequest[] {
    const requests = table.entries(namespace) as Record<string, WorkerRequest>;
    return Object.entries(requests).flatMap(([key, request]) => {
      if (key !== name && !key.startsWith(`${name}/`)) return [];
      const id = `${namespace}|${key}`;
      if ((this.seen.get(id) ?? 0) >= request.seq) return [];
      this.seen.set(id, request.seq);
      return [request];
    });
  }
}
