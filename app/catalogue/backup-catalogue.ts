import { MarkerTails } from './marker-tails.js';
import { backupParticipantOf, type BackupParticipant, type StoredObjectRef } from '../../connectors/common/backups.js';
import type { KafkaCluster } from '../../runtime/api/cluster.js';
import { ColdstoreError, describeError, ErrorCodes, isRetriable, RetriableError } from '../../runtime/api/errors.js';
import { configFingerprint } from '../../runtime/config/fingerprint.js';
import type { HerderApi as Herder } from '../../runtime/herder/herder-api.js';
import type { Logger } from '../../runtime/telemetry/logger.js';
import type { PartitionProgress } from '../../runtime/worker/task-runner.js';
import { backupView, cutPartition, partitionDone, storedPartition, type BackupRecord, type BackupView, type StoredParticipant } from './backup-record.js';
import type { CatalogueStore } from './catalogue-store.js';
import { backupsToRemove } from './retention-policy.js';
import { takeCut } from './cut.js';
import { SerialQueue } from '../../runtime/support/serial-queue.js';

/** How often backups in progress are checked. */
const CHECK_INTERVAL_MS = 1_000;
/** A task is asked to flush its open bundles at most this often for one backup. */
const FLUSH_INTERVAL_MS = 5_000;

export interface CatalogueOptions {
  herder: Herder;
  cluster: () => KafkaCluster;
  store: CatalogueStore;
  log: Logger;
  timeoutMs: number;
  retain: { count: number; days: number };
  /** Whether this worker keeps the catalogue (always standalone; the leader in a cluster). */
  active?: () => boolean;
}

/**
 * Backups by id: takes a consistent cut across every partition the running BackupSink
 * connectors cover, watches their committed offsets reach it (asking tasks to flush
 * their open bundles once they have consumed up to it), then has each connector write
 * its manifest. Records live in the checkpoint store, so a restarted worker carries on.
 */
export class BackupCatalogue {
  private timer: NodeJS.Timeout | undefined;
  /** One change at a time: creations, checks and deletions never interleave. */
  private readonly queue = new SerialQueue();
  private readonly lastFlush = new Map<string, number>();
  private readonly markerTails = new MarkerTails();
  private checkQueued = false;

  constructor(private readonly options: CatalogueOptions) {}

  start(): void {
    this.timer = setInterval(() => {
      // A slow check (a large manifest, retention) must not queue more behind it.
      if (this.checkQueued || !(this.options.active?.() ?? true)) return;
      this.checkQueued = true;
      this.queue
        .run(() => this.checkAll())
        .catch((err) => this.options.log.warn({ err }, 'checking backups in progress failed'))
        .finally(() => (this.checkQueued = false));
    }, CHECK_INTERVAL_MS);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.queue.idle();
  }

  private async participants(): Promise<{ name: string; participant: BackupParticipant; configFingerprint: string }[]> {
    const { herder } = this.options;
    const all = await Promise.all(
      herder.names().map(async (name) => {
        const instance = herder.find(name);
        const participant = await this.participantOf(name);
        return instance && participant ? [{ name, participant, configFingerprint: configFingerprint(instance.record.config) }] : [];
      }),
    );
    return all.flat();
  }

  private async participantOf(name: string): Promise<BackupParticipant | undefined> {
    return backupParticipantOf(await this.options.herder.observe(name));
  }

  /** Store or cluster trouble while answering a request is a 503 with what to check, not an internal error. */
  private async reaching<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof ColdstoreError && err.code !== ErrorCodes.KAFKA_ERROR) throw err;
      throw new RetriableError(`Could not ${what}: ${(err as Error).message}. Check that Kafka and the backup store are reachable, then try again.`, {
        cause: err,
      });
    }
  }

  create(id: number): Promise<{ id: number }> {
    return this.queue.run(async () => {
      const { records, highestId } = await this.options.store.all();
      const participants = await this.participants();
      const inBuckets = await this.reaching('list the backups in the buckets', () => Promise.all(participants.map((p) => p.participant.highestBackupId())));
      const highest = Math.max(highestId, ...records.map((r) => r.backupId), ...inBuckets, 0);
      if (id <= highest) {
        throw new ColdstoreError(
          ErrorCodes.BACKUP_ID_CONFLICT,
          `Backup id ${id} is not greater than ${highest}, the highest id taken so far (deleted backups included). Use ${highest + 1} or more.`,
        );
      }
      const problems = participants.flatMap(({ name, participant }) => {
        const state = this.options.herder.status(name);
        const notRunning = [state.connector.state, ...state.tasks.map((t) => t.state)].find((s) => s !== 'RUNNING');
        const refusal = participant.refusal();
        return [...(notRunning ? [`connector ${name} is ${notRunning}, not RUNNING`] : []), ...(refusal ? [refusal] : [])];
      });
      if (participants.length === 0) problems.push('no layout=kafka BackupSink connector is running (layout=azul connectors are not part of backups by id)');
      if (problems.length > 0) throw new ColdstoreError(ErrorCodes.BACKUP_NOT_POSSIBLE, `Backup ${id} cannot be taken: ${problems.join('; ')}.`);
      const cluster = this.options.cluster();
      const createdAt = Date.now();
      const stored = await this.reaching('take the cut', async () => {
        const cut = await takeCut(cluster, participants);
        const taken: StoredParticipant[] = [];
        for (const { name, participant, configFingerprint } of participants) {
          const partitions = cut.get(name) ?? [];
          taken.push({
            connector: name,
            configFingerprint,
            partitions: partitions.map(storedPartition),
            captured: await participant.capture(cluster, partitions),
          });
        }
        return taken;
      });
      await this.options.store.put({ backupId: id, status: 'IN_PROGRESS', failureReason: null, createdAt, lastUpdatedAt: createdAt, participants: stored }, id);
      this.options.log.info({ backupId: id, partitions: stored.reduce((n, p) => n + p.partitions.length, 0) }, 'backup started');
      return { id };
    });
  }

  async get(id: number): Promise<BackupView | undefined> {
    const record = await this.options.store.get(id);
    return record ? backupView(record) : undefined;
  }

  async list(): Promise<BackupView[]> {
    return (await this.options.store.all()).records.map(backupView);
  }

  /** Deletes a backup (its manifests, then bundles nothing else needs); dryRun lists what would go. */
  delete(id: number, dryRun: boolean): Promise<{ backupId: number; dryRun: boolean; deleted: StoredObjectRef[] }> {
    return this.queue.run(async () => {
      const record = await this.options.store.get(id);
      const participants = await this.participants();
      const inBuckets = await this.reaching('list the backups in the buckets', async () =>
        (await Promise.all(participants.map((p) => p.participant.listBackupIds()))).flat(),
      );
      if (!record && !inBuckets.includes(id)) throw new ColdstoreError(ErrorCodes.BACKUP_NOT_FOUND, `There is no backup ${id}. GET /backups lists them.`);
      const absent = (record?.participants ?? []).filter((p) => p.manifest && !participants.some((q) => q.name === p.connector)).map((p) => p.connector);
      if (absent.length > 0) {
        throw new ColdstoreError(
          ErrorCodes.BACKUP_NOT_POSSIBLE,
          `Backup ${id} cannot be deleted while connector ${absent.join(', ')}, which holds part of it, is not running: its manifest would stay restorable. Start it again, then delete.`,
        );
      }
      const deleted = await this.reaching('delete the backup', () => this.prune([id], dryRun));
      if (!dryRun) await this.options.store.remove([id]);
      return { backupId: id, dryRun, deleted };
    });
  }

  /** Applies the retention policy now; dryRun lists what would go. */
  applyRetention(dryRun: boolean): Promise<{ dryRun: boolean; removedBackups: number[]; deleted: StoredObjectRef[] }> {
    return this.queue.run(() => this.retention(dryRun));
  }

  private async retention(dryRun: boolean) {
    const { records } = await this.options.store.all();
    const remove = backupsToRemove(records, this.options.retain, Date.now());
    const deleted = await this.reaching('prune the backups', () => this.prune(remove, dryRun));
    if (!dryRun) await this.options.store.remove(remove);
    return { dryRun, removedBackups: remove, deleted };
  }

  private async prune(remove: number[], dryRun: boolean): Promise<StoredObjectRef[]> {
    const deleted: StoredObjectRef[] = [];
    // Bundles a backup in progress will list in its manifest are not the window's to take.
    const { records } = await this.options.store.all();
    const inProgress = records.filter((r) => r.status === 'IN_PROGRESS').flatMap((r) => r.participants.flatMap((p) => p.partitions.map(cutPartition)));
    for (const { participant } of await this.participants()) deleted.push(...(await participant.prune({ remove, inProgress, dryRun })));
    if (!dryRun && deleted.length > 0) this.options.log.info({ backups: remove, objects: deleted.length }, 'pruned backups');
    return deleted;
  }

  /** Reads the backup end to end through each connector that holds part of it. */
  async verify(id: number): Promise<{ backupId: number; ok: boolean; reports: Record<string, unknown>[] }> {
    const record = await this.options.store.get(id);
    const participants = (await this.participants()).filter((p) => !record || record.participants.some((r) => r.connector === p.name));
    if (participants.length === 0) throw new ColdstoreError(ErrorCodes.BACKUP_NOT_FOUND, `No running BackupSink connector holds backup ${id}.`);
    const reports = await Promise.all(participants.map(async ({ name, participant }) => ({ connector: name, ...(await participant.verify(id)) })));
    return { backupId: id, ok: reports.every((r) => r.ok), reports };
  }

  private async checkAll(): Promise<void> {
    const { records } = await this.options.store.all();
    for (const record of records.filter((r) => r.status === 'IN_PROGRESS')) {
      const updated = await this.check(record);
      await this.options.store.put(updated);
      if (updated.status === 'COMPLETED') {
        this.options.log.info({ backupId: updated.backupId, manifests: updated.participants.map((p) => p.manifest) }, 'backup completed');
        await this.retention(false).catch((err) => this.options.log.warn({ err }, 'applying backup retention failed; it is tried again after the next backup'));
      } else if (updated.status === 'FAILED') {
        this.options.log.error({ backupId: updated.backupId, reason: updated.failureReason }, 'backup failed');
        await this.discard(updated);
      }
    }
  }

  /** A failed backup must not stay restorable through manifests some connectors already wrote. */
  private async discard(record: BackupRecord): Promise<void> {
    for (const stored of record.participants.filter((p) => p.manifest)) {
      const participant = await this.participantOf(stored.connector);
      await participant
        ?.discard(record.backupId)
        .catch((err: unknown) =>
          this.options.log.warn(
            { err, backupId: record.backupId, manifest: stored.manifest },
            'could not delete the manifest of a failed backup; delete it by hand',
          ),
        );
    }
  }

  private async check(record: BackupRecord): Promise<BackupRecord> {
    const now = Date.now();
    const failed = (reason: string): BackupRecord => ({ ...record, status: 'FAILED', failureReason: reason, lastUpdatedAt: now });
    let participants: StoredParticipant[] = [];
    for (const stored of record.participants) {
      const instance = this.options.herder.find(stored.connector);
      if (!instance) return failed(`connector ${stored.connector} was deleted`);
      if (stored.configFingerprint && configFingerprint(instance.record.config) !== stored.configFingerprint) {
        return failed(`the config of connector ${stored.connector} changed during the backup (it may now write elsewhere); take a new backup`);
      }
      const status = instance.status();
      const failedTask = status.tasks.find((t) => t.state === 'FAILED');
      if (status.connector.state === 'FAILED' || failedTask) {
        const trace = (failedTask?.trace ?? status.connector.trace ?? '').split('\n')[0];
        return failed(`connector ${stored.connector}${failedTask ? ` task ${failedTask.id}` : ''} failed: ${trace}`);
      }
      participants.push(this.advance(record.backupId, stored, instance.partitionProgress(), (task) => instance.requestFlush(task)));
    }
    participants = await this.markerTails.settle(this.options.cluster(), participants);
    const pending = participants.flatMap((p) => p.partitions.filter((q) => !partitionDone(q)).map((q) => ({ connector: p.connector, ...q })));
    if (pending.length > 0) {
      if (now - record.createdAt <= this.options.timeoutMs) return { ...record, participants, lastUpdatedAt: now };
      const shown = pending.slice(0, 5).map((p) => `${p.topic}/${p.partition} durable to ${p.durableOffset ?? 'nothing'} of ${p.endOffset}`);
      return failed(
        `not durable up to the cut within ${this.options.timeoutMs} ms (backups.timeout.ms): ${shown.join(', ')}${pending.length > 5 ? ` and ${pending.length - 5} more` : ''}`,
      );
    }
    for (const stored of participants.filter((p) => !p.manifest)) {
      const participant = await this.participantOf(stored.connector);
      if (!participant) return failed(`connector ${stored.connector} stopped before its manifest was written`);
      try {
        stored.manifest = await participant.writeManifest({
          backupId: record.backupId,
          createdAt: record.createdAt,
          partitions: stored.partitions.map(cutPartition),
          captured: stored.captured,
        });
      } catch (err) {
        if (!isRetriable(err) || now - record.createdAt > this.options.timeoutMs)
          return failed(`writing the manifest of ${stored.connector} failed: ${describeError(err)}`);
        this.options.log.warn({ err, backupId: record.backupId }, 'writing a backup manifest failed; retrying');
        return { ...record, participants, lastUpdatedAt: now };
      }
    }
    return { ...record, participants, status: 'COMPLETED', lastUpdatedAt: now };
  }

  /** Updates durable offsets from the tasks, and asks a task holding the cut in an open bundle to flush it. */
  private advance(
    backupId: number,
    stored: StoredParticipant,
    progress: readonly (PartitionProgress & { task: number })[],
    flush: (task: number) => void,
  ): StoredParticipant {
    const byKey = new Map(progress.map((p) => [`${p.topic}/${p.partition}`, p]));
    const partitions = stored.partitions.map((p) => {
      if (partitionDone(p)) return p;
      const now = byKey.get(`${p.topic}/${p.partition}`);
      if (!now) return p;
      const end = BigInt(p.endOffset);
      // Unknown hand-over (a task on another worker): ask anyway, the request is rate-limited.
      if ((now.delivered === undefined || now.delivered >= end) && (now.durableThrough ?? -1n) < end) {
        const key = `${backupId}/${stored.connector}/${now.task}`;
        if (Date.now() - (this.lastFlush.get(key) ?? 0) >= FLUSH_INTERVAL_MS) {
          this.lastFlush.set(key, Date.now());
          flush(now.task);
        }
      }
      const durable = now.durableThrough;
      return durable !== undefined && (p.durableOffset === undefined || durable > BigInt(p.durableOffset)) ? { ...p, durableOffset: durable.toString() } : p;
    });
    return { ...stored, partitions };
  }
}
