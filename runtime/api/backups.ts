/*
 * The value types of a consistent cut for backups by id. They belong to the product
 * (connectors/shared/backups.ts re-exports them with BackupParticipant, the hook itself);
 * they stay here only until BackupSink's manifest writer and pruning import them from there.
 */

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
