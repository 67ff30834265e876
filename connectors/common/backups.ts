import type { KafkaCluster } from '../../runtime/api/index.js';

/** One partition of a consistent cut: the backup holds offsets startOffset..endOffset-1. */
export interface CutPartition {
  topic: string;
  partition: number;
  /** The log start offset at the cut (older offsets had already left Kafka). */
  startOffset: bigint;
  /** The end offset at the cut (the last stable offset: records of transactions still open are outside). */
  endOffset: bigint;
}

export interface BackupCut {
  backupId: number;
  /** Milliseconds since the epoch. */
  createdAt: number;
  partitions: CutPartition[];
  /** What the participant captured at the cut (topic configs, group offsets), handed back to writeManifest. */
  captured: Record<string, unknown>;
}

export interface StoredObjectRef {
  bucket: string;
  key: string;
}

/**
 * A sink connector's side of backups by id. The product's backup catalogue
 * (app/catalogue) takes the cut, waits until the connector's committed offsets
 * reach it, and keeps the catalogue; the connector knows where its backup lives
 * and what a manifest holds. The runtime knows nothing of it.
 */
export interface BackupParticipant {
  /** Whether the connector backs this topic up (its subscription minus its exclusions). */
  coversTopic(topic: string): boolean;
  /** Why this connector cannot take part in a backup by id, if it cannot. */
  refusal(): string | undefined;
  /** Reads, at the cut, what the manifest keeps besides offsets (topic configs, consumer-group offsets). */
  capture(cluster: KafkaCluster, partitions: readonly CutPartition[]): Promise<Record<string, unknown>>;
  /** Once every partition is durable up to the cut: lists the bundles the backup needs and writes its manifest. */
  writeManifest(cut: BackupCut): Promise<StoredObjectRef>;
  /** Backup ids with a manifest in the connector's location. */
  listBackupIds(): Promise<number[]>;
  /** The highest backup id ever completed in the connector's location, deleted ones included. */
  highestBackupId(): Promise<number>;
  /**
   * Deletes its manifests of `remove`, then the bundles that neither a remaining backup,
   * a backup still in progress (`inProgress`: their cuts) nor the continuous backup's
   * retention window needs; with dryRun only lists them.
   */
  prune(args: { remove: readonly number[]; inProgress: readonly CutPartition[]; dryRun: boolean }): Promise<StoredObjectRef[]>;
  /** Removes what a backup that failed wrote (its manifest), so it cannot be restored or keep bundles. */
  discard(backupId: number): Promise<void>;
  /** Reads the backup end to end (docs/operations.md, verify); JSON report with `ok` and `problems`. */
  verify(backupId: number): Promise<{ ok: boolean } & Record<string, unknown>>;
}

/** A connector instance that takes part in backups by id (docs/backups.md) returns its side of it once started (undefined: this instance does not). */
export interface TakesPartInBackups {
  backups(): BackupParticipant | undefined;
}

/** The connector's side of backups by id, if the connector instance (as the runtime hands it over, untyped) has one. */
export function backupParticipantOf(connector: object | undefined): BackupParticipant | undefined {
  const hook = (connector as Partial<TakesPartInBackups> | undefined)?.backups;
  return typeof hook === 'function' ? hook.call(connector) : undefined;
}
