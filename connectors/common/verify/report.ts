import type { Location } from '../backup-location.js';
import type { ObjectMetadata, ObjectStore } from '../object-store/object-store.js';
import { MetadataName } from '../../layouts/metadata-names.js';
import type { AzulBundleReading, BundleReading } from './checked-reads.js';
import type { BackupLayout, LayoutChoice } from './layout.js';

/**
 * What `coldstore verify` (and the REST API's verify) can find wrong. `stream-missing`:
 * an azul-layout event refers to a stream blob that is not in the streams bucket
 * (including blobs the dispatcher did not have when the BackupSink asked for them).
 */
export type VerifyProblemKind =
  'manifest' | 'missing' | 'key-unavailable' | 'not-authentic' | 'size' | 'corrupt' | 'checksum' | 'inconsistent' | 'gap' | 'foreign' | 'stream-missing';

/**
 * One thing wrong, named by its key relative to the events location (what `coldstore
 * ls` and `inspect` use); a stream blob's problem by its key relative to the streams
 * location (`<source>/<label>/<sha256>`), with the bundle that refers to it.
 */
export type VerifyProblem = {
  kind: VerifyProblemKind;
  key: string;
  topic?: string;
  partition?: number;
  /** Stream problems: the event bundle (relative to the events location) found referring to the stream first. */
  bundle?: string;
  message: string;
};

export type VerifyProgress = {
  /** Objects checked so far. */
  objects: number;
  /** Objects to check: known up front for a backup by id; for the continuous backup, those listed so far. */
  totalObjects: number;
  /** Stored (compressed) bytes read so far. */
  bytes: number;
};

export type VerifyOptions = {
  store: ObjectStore;
  location: Location;
  /** Verify this backup by id (its manifests); without it, the continuous backup (every bundle in the location). */
  backupId?: number;
  /**
   * How the continuous backup is laid out (default `auto`: `azul` when the location
   * holds azul index entries, else `kafka`). A backup by id follows its manifests.
   */
  layout?: LayoutChoice;
  /** The streams location, where the azul layout's stream blobs must be; without it they are not checked (a note says so). */
  streams?: Location;
  /** Objects downloaded and checked at the same time, and so the most bodies held in memory (default 8). */
  concurrency?: number;
  onProgress?: (progress: VerifyProgress) => void;
};

/**
 * A type alias, not an interface, so a report is a `Record<string, unknown>` where
 * the runtime's BackupParticipant.verify expects one.
 */
export type VerifyReport = {
  backupId: number | null;
  ok: boolean;
  bucket: string;
  /** Manifests read (0 for the continuous backup). */
  manifests: number;
  partitions: number;
  objects: number;
  /** Records decoded from the objects checked. */
  records: number;
  /** Stored (compressed) bytes of the objects checked. */
  bytes: number;
  problems: VerifyProblem[];
  /** Facts worth knowing that are not problems, e.g. a partition's first bundle starting after its log start offset. */
  notes: string[];
  /** Present for the azul layout's continuous backup only, as are `streams`. */
  layout?: BackupLayout;
  /** Distinct stream blobs looked for (HEAD) in the streams location. */
  streams?: number;
  /** The keys the objects read are encrypted with (what restoring this backup needs), and how many objects are not encrypted. */
  encryption: EncryptionUsed;
};

export type EncryptionUsed = {
  keys: { provider: string; keyId: string; objects: number }[];
  unencryptedObjects: number;
};

export const DEFAULT_VERIFY_CONCURRENCY = 8;

/** Collects counts, problems and notes while objects are checked in any order. */
export class ReportTally {
  objects = 0;
  records = 0;
  bytes = 0;
  partitions = 0;
  manifests = 0;
  streams = 0;
  private readonly problems: VerifyProblem[] = [];
  private readonly notes: string[] = [];
  private readonly keys = new Map<string, { provider: string; keyId: string; objects: number }>();
  private unencrypted = 0;

  constructor(
    private readonly backupId: number | null,
    private readonly bucket: string,
    /** Set for the azul layout: the report then says so and counts streams. */
    private readonly layout?: 'azul',
  ) {}

  /** Counts one checked object: its bytes, and its records (an azul bundle's events) or its problem. */
  count(reading: BundleReading | AzulBundleReading): void {
    this.objects++;
    this.bytes += reading.bytes;
    if (!reading.ok) this.problems.push(reading.problem);
    else {
      this.records += 'records' in reading ? reading.records.length : reading.events.length;
      this.encryptedWith(reading.metadata);
    }
  }

  /** Counts the key an object read is encrypted with (from its metadata), or one more object not encrypted. */
  encryptedWith(metadata: ObjectMetadata): void {
    const provider = metadata[MetadataName.encryptionProvider];
    const keyId = metadata[MetadataName.encryptionKeyId];
    if (!metadata[MetadataName.encryption] || !provider || !keyId) {
      this.unencrypted++;
      return;
    }
    const name = `${provider}\n${keyId}`;
    const known = this.keys.get(name) ?? { provider, keyId, objects: 0 };
    known.objects++;
    this.keys.set(name, known);
  }

  problem(problem: VerifyProblem | undefined): void {
    if (problem) this.problems.push(problem);
  }

  note(note: string): void {
    this.notes.push(note);
  }

  toReport(): VerifyReport {
    // Objects finish in any order; sorted problems make reports comparable from run to run.
    const problems = [...this.problems].sort((a, b) => compare(a.key, b.key) || compare(a.kind, b.kind) || compare(a.message, b.message));
    return {
      backupId: this.backupId,
      ok: problems.length === 0,
      bucket: this.bucket,
      manifests: this.manifests,
      partitions: this.partitions,
      objects: this.objects,
      records: this.records,
      bytes: this.bytes,
      problems,
      notes: [...this.notes],
      ...(this.layout ? { layout: this.layout, streams: this.streams } : {}),
      encryption: {
        keys: [...this.keys.values()].sort((a, b) => compare(a.provider, b.provider) || compare(a.keyId, b.keyId)),
        unencryptedObjects: this.unencrypted,
      },
    };
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
