import { ColdstoreError, ErrorCodes } from '../api/errors.js';
import type { MembershipChange } from '../kafka/group-membership.js';
import { TransactionalWriter } from '../kafka/transactional-writer.js';
import type { KafkaCheckpointStore } from '../storage/kafka-checkpoint-store.js';
import { SerialQueue } from '../support/serial-queue.js';
import type { Worker } from '../worker/worker.js';
import { nextAssignment, sameAssignment, taskUnit } from './assignor.js';
import { CONFIG_NAMESPACES, connectorRecords, currentAssignment, currentTaskConfigs } from './config-topic.js';

/**
 * Members of the worker group join with client id `coldstore-worker:<topics>:<worker id>`,
 * so the leader knows which worker each member is, and a worker can tell that members
 * with other storage topics (a different fingerprint) share its group.id.
 */
export const WORKER_CLIENT_PREFIX = 'coldstore-worker:';

export function workerClientId(topicsFingerprint: string, workerId: string): string {
  return `${WORKER_CLIENT_PREFIX}${topicsFingerprint}:${workerId}`;
}

export function parseWorkerClientId(clientId: string): { topics: string; workerId: string } | undefined {
  if (!clientId.startsWith(WORKER_CLIENT_PREFIX)) return undefined;
  const rest = clientId.slice(WORKER_CLIENT_PREFIX.length);
  const cut = rest.indexOf(':');
  return cut < 0 ? undefined : { topics: rest.slice(0, cut), workerId: rest.slice(cut + 1) };
}

export interface ClusterLeaderDeps {
  worker: Worker;
  groupId: string;
  configs: KafkaCheckpointStore;
  offsets: KafkaCheckpointStore;
  /** The group went on without this worker (paused or cut off): it must drop its work. */
  onLost: () => void;
}

/**
 * The leader's duties and the leadership itself. The member Kafka gives the config topic's
 * partition leads: it writes desired-state changes and the assignment, through a
 * transactional writer whose id names the role, so a newer leader fences an older one.
 */
export class ClusterLeader {
  private leading = false;
  /** Leadership kept across the revocation every rebalance starts with. */
  private held = false;
  private store: KafkaCheckpointStore | undefined;
  private offsetsStore: KafkaCheckpointStore | undefined;
  private readonly writers: { configs?: TransactionalWriter; offsets?: TransactionalWriter } = {};
  private readonly queue = new SerialQueue();
  private queued = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: ClusterLeaderDeps) {}

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    // Catches what an event may have missed (a member list read mid-rebalance).
    this.timer = setInterval(() => this.scheduleRebalance(), 3_000);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.leading = false;
    await this.queue.idle();
    this.releaseWriters();
  }

  private releaseWriters(): void {
    for (const store of [this.store, this.offsetsStore]) void store?.close().catch(() => undefined);
    this.store = undefined;
    this.offsetsStore = undefined;
    this.writers.configs = undefined;
    this.writers.offsets = undefined;
  }

  /**
   * Leadership can come back to this worker after a generation it took no part in (cut off,
   * then rejoined as leader): the leader of that generation fenced the writers kept here,
   * and a fenced writer fails every write. The group named this worker leader again, so its
   * writers are made anew, which fences the older leader in turn.
   */
  private dropFencedWriters(): void {
    if (!this.writers.configs?.isFenced && !this.writers.offsets?.isFenced) return;
    this.deps.worker.log.warn({}, 'the leader writers were fenced by a leader of a generation this worker missed; making them anew');
    this.releaseWriters();
  }

  onMembership(change: MembershipChange): void {
    const { worker } = this.deps;
    worker.metrics.rebalances.add(1, { kind: change.kind });
    if (change.lost) {
      worker.metrics.workerFenced.add(1);
      worker.log.warn({}, 'worker fenced: the group went on without it (paused or cut off past session.timeout.ms); its tasks stop here and run elsewhere');
      this.deps.onLost();
    }
    // Every rebalance revokes first (eager protocol): no writes until it is over, but what the
    // leader holds (writers, observers) is kept in case the partition comes back to it.
    if (change.kind === 'revoked') {
      this.leading = false;
      if (change.lost) this.resign();
    }
    if (change.kind === 'assigned') {
      if (change.leader && !this.held) worker.log.info({}, 'this worker leads the cluster');
      if (!change.leader) this.resign();
      this.leading = change.leader;
      this.held = change.leader;
      this.scheduleRebalance();
    }
  }

  /** Drops leadership and what only the leader holds (its writers; the herder's observers). */
  resign(): void {
    this.leading = false;
    if (!this.held) return;
    this.held = false;
    this.releaseWriters();
    this.onLeadershipLost();
  }

  /** Called when this worker stops leading (the herder drops what only the leader keeps). */
  onLeadershipLost: () => void = () => {};

  private requireLeading(): void {
    if (!this.leading) {
      throw new ColdstoreError(ErrorCodes.NOT_LEADER, 'This worker does not lead the cluster (a rebalance is under way); retry in a few seconds.');
    }
  }

  /** The offsets topic written through the leader's own fenced writer (the backup catalogue's records). */
  async offsetsWriter(): Promise<KafkaCheckpointStore> {
    this.requireLeading();
    this.dropFencedWriters();
    const store = (this.offsetsStore ??= this.deps.offsets.withWriter(
      (this.writers.offsets = new TransactionalWriter(this.deps.worker.kafka, `coldstore-${this.deps.groupId}-leader-offsets`, this.deps.offsets.topic)),
    ));
    // Fences an older leader's catalogue writes before this one reads or writes the catalogue.
    await store.fence();
    return this.stillHeld(store, this.offsetsStore);
  }

  /** Leadership may have moved on while a writer was being prepared: then it must not be used. */
  private stillHeld(store: KafkaCheckpointStore, current: KafkaCheckpointStore | undefined): KafkaCheckpointStore {
    if (!this.leading || current !== store) {
      throw new ColdstoreError(ErrorCodes.NOT_LEADER, 'This worker stopped leading the cluster while preparing the write; retry in a few seconds.');
    }
    return store;
  }

  /** The config topic written through the leader's fenced writer; NOT_LEADER when this worker does not lead. */
  async writer(): Promise<KafkaCheckpointStore> {
    this.requireLeading();
    this.dropFencedWriters();
    const store = (this.store ??= this.deps.configs.withWriter(
      (this.writers.configs = new TransactionalWriter(this.deps.worker.kafka, `coldstore-${this.deps.groupId}-leader`, this.deps.configs.topic)),
    ));
    // Fences an older leader and catches up with everything it wrote.
    await store.read(CONFIG_NAMESPACES.connectors);
    return this.stillHeld(store, this.store);
  }

  scheduleRebalance(): void {
    if (!this.leading || this.queued) return;
    this.queued = true;
    void this.queue
      .run(async () => {
        this.queued = false;
        if (this.leading) await this.assign();
      })
      .catch((err: unknown) => this.deps.worker.log.warn({ err }, 'computing the assignment failed; retrying'));
  }

  private async assign(): Promise<void> {
    const store = await this.writer();
    await this.offsetsWriter();
    const members = await this.deps.worker.cluster.groupMembers(this.deps.groupId);
    const workers = members.flatMap((m) => parseWorkerClientId(m.clientId)?.workerId ?? []);
    if (workers.length === 0) return;
    const table = store.table;
    const records = connectorRecords(table);
    const tasks = Object.keys(records).flatMap((name) =>
      records[name]!.target === 'STOPPED' ? [] : (currentTaskConfigs(table, this.deps.offsets.table, name)?.tasks ?? []).map((_, id) => taskUnit(name, id)),
    );
    const previous = currentAssignment(table);
    const next = nextAssignment(previous, this.deps.worker.workerId, workers, Object.keys(records), tasks);
    if (sameAssignment(previous, next) && previous.leader === next.leader) return;
    await store.write(CONFIG_NAMESPACES.assignment, { current: next });
    const moved = Object.keys(next.tasks).filter((unit) => previous.tasks[unit] !== undefined && previous.tasks[unit] !== next.tasks[unit]).length;
    this.deps.worker.log.info({ generation: next.generation, workers: next.workers, tasks: Object.keys(next.tasks).length, moved }, 'new assignment');
  }
}
