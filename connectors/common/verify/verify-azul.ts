import { legacyAzulBundleRange } from '../../layouts/azul/checked-reader.js';
import type { StreamRef } from '../../layouts/azul/event-fields.js';
import type { IndexedRange } from '../../layouts/azul/index-entry-reader.js';
import { parseAzulBundleKey, streamKey } from '../../layouts/azul/keys.js';
import {
  AZUL_INDEX_PREFIX,
  AZUL_REJECTS_PREFIX,
  azulIndexKey,
  FORMAT_AZUL_BUNDLE,
  FORMAT_AZUL_STREAM,
  parseAzulIndexKeyStrictly,
} from '../../layouts/azul/objects.js';
import type { BundleKey } from '../../layouts/layout.js';
import { MetadataName } from '../../layouts/metadata-names.js';
import { BackupLocation, type Location } from '../backup-location.js';
import { forEachBounded, Limiter } from '../bounded.js';
import { UndecryptableObject } from '../encryption/encrypting-store.js';
import { METADATA_PREFIX } from '../formats/backup-metadata.js';
import type { ObjectMetadata, ObjectStore } from '../object-store/object-store.js';
import { readVerifiedAzulBundle, readVerifiedBundle, readVerifiedIndexEntry } from './checked-reads.js';
import { ListingCoverage } from './coverage.js';
import { DEFAULT_VERIFY_CONCURRENCY, ReportTally, type VerifyOptions, type VerifyProblem, type VerifyProblemKind, type VerifyReport } from './report.js';

/**
 * Verifies the continuous backup of a layout=azul BackupSink (docs/formats.md, Layout
 * azul). The index entries are the backup: per partition they must tile the offsets;
 * each must name an event bundle and/or a rejects bundle that check out against it;
 * every stream blob the bundles' binary events refer to must be in the streams
 * location (one HEAD per distinct stream); and every object under the events location
 * that no entry names is `foreign`.
 *
 * The objects are listed first and the index read after, so ranges a running
 * BackupSink completes meanwhile are not taken for foreign objects. Memory holds one
 * key per listed object and per distinct stream, plus `concurrency` bodies.
 */
export async function verifyAzulBackup(options: VerifyOptions): Promise<VerifyReport> {
  const { store } = options;
  const location = BackupLocation.of(options.location);
  const concurrency = options.concurrency ?? DEFAULT_VERIFY_CONCURRENCY;
  const tally = new ReportTally(null, location.bucket, 'azul');
  const unnamed = await listDataObjects(store, location);
  const toCheck = unnamed.size;
  const streams = new StreamCheck(store, options.streams, concurrency, tally);
  const coverage = new ListingCoverage();

  async function* entries(): AsyncGenerator<IndexedRange> {
    for await (const { key } of location.list(store, AZUL_INDEX_PREFIX)) {
      const named = parseAzulIndexKeyStrictly(key);
      if (!named) {
        tally.problem({
          kind: 'foreign',
          key,
          message: `is not named like an index entry (${AZUL_INDEX_PREFIX}<topic>/<partition>/<start>-<end>.json, offsets in 20 digits)`,
        });
        continue;
      }
      // Entry keys list in offset order within a partition (zero-padded), like kafka-v1 bundle keys.
      tally.problem(coverage.next({ key, ...named }));
      tally.partitions = coverage.size;
      yield { key, ...named };
    }
  }

  await forEachBounded(entries(), concurrency, async (range) => {
    const entry = await readVerifiedIndexEntry(store, location, range);
    if (!entry.ok) return tally.problem(entry.problem);
    const { bundle, rejects } = entry.entry;
    if (bundle) {
      unnamed.delete(bundle.key);
      const reading = await readVerifiedAzulBundle(store, location, bundle.key, { key: range.key, range, events: bundle.events, sha256: bundle.sha256 });
      tally.count(reading);
      if (reading.ok) {
        if (reading.streams.length !== entry.entry.streams) {
          tally.problem(
            problemOf(
              range,
              'inconsistent',
              `says its range refers to ${entry.entry.streams} distinct streams, its bundle ${bundle.key} refers to ${reading.streams.length}`,
            ),
          );
        }
        await streams.check(reading.streams, bundle.key, range);
      }
    }
    if (rejects) {
      unnamed.delete(rejects.key);
      tally.count(
        await readVerifiedBundle(store, location, {
          ...range,
          key: rejects.key,
          stated: { by: 'its index entry', sha256: rejects.sha256, records: rejects.records },
        }),
      );
    }
    options.onProgress?.({ objects: tally.objects, totalObjects: Math.max(toCheck, tally.objects), bytes: tally.bytes });
  });

  await forEachBounded(unnamed, concurrency, async (key) => {
    const head = await store.head(location.bucket, location.key(key)).catch((err: unknown) => {
      if (!(err instanceof UndecryptableObject)) throw err;
      tally.problem({ kind: err.kind, key, message: err.detail });
      return undefined;
    });
    // Gone since it was listed: nothing left to report.
    if (head) tally.problem({ kind: 'foreign', key, message: whyForeign(key, head.metadata) });
  });
  streams.noteIfUnchecked();
  return tally.toReport();
}

/** Every object the azul layout writes outside its index (event and rejects bundles), and anything else there but coldstore's own metadata. */
async function listDataObjects(store: ObjectStore, location: BackupLocation): Promise<Set<string>> {
  const keys = new Set<string>();
  for await (const { key } of location.list(store)) {
    if (!key.startsWith(METADATA_PREFIX) || key.startsWith(AZUL_REJECTS_PREFIX)) keys.add(key);
  }
  return keys;
}

function problemOf(range: IndexedRange, kind: VerifyProblemKind, message: string): VerifyProblem {
  return { kind, key: range.key, topic: range.topic, partition: range.partition, message };
}

/** Why an object no index entry names is not part of the backup, by what it looks like. */
function whyForeign(key: string, metadata: ObjectMetadata): string {
  const range = legacyAzulBundleRange(metadata);
  if (range) {
    return `an azul bundle of ${range.topic}/${range.partition} offsets ${range.start}..${range.end} that no valid index entry names (that range's would be ${azulIndexKey(range.topic, range.partition, range.start, range.end)}): the range is not recorded as backed up (a BackupSink still writing it, a leftover, or a damaged entry)`;
  }
  if (metadata[MetadataName.format] === FORMAT_AZUL_BUNDLE) {
    return 'an azul bundle that no valid index entry names: the ranges it holds are not recorded as backed up (a BackupSink still writing them, a leftover, or a damaged entry)';
  }
  if (key.startsWith(AZUL_REJECTS_PREFIX))
    return 'a rejects bundle that no valid index entry names: its range is not recorded as backed up (a BackupSink still writing it, a leftover, or a damaged entry)';
  if (parseAzulBundleKey(key) && metadata[MetadataName.format] === undefined) {
    return `named like an Azul bundle but not written by coldstore (no coldstore-format=${FORMAT_AZUL_BUNDLE} metadata; the Azul backup service's own bundle?): coldstore neither verifies nor restores it; keep such bundles in another bucket`;
  }
  return `no index entry names it; it is not an object of the azul layout (event bundles under <source>/, rejects under ${AZUL_REJECTS_PREFIX}, each named by an entry under ${AZUL_INDEX_PREFIX})`;
}

/** Looks each distinct stream blob up once (HEAD), at most `concurrency` at a time across all bundles. */
class StreamCheck {
  private readonly seen = new Set<string>();
  private readonly limiter: Limiter;
  private unchecked = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly location: Location | undefined,
    concurrency: number,
    private readonly tally: ReportTally,
  ) {
    this.limiter = new Limiter(concurrency);
  }

  /** Checks the streams of `bundle` not looked up yet; a stream missing is reported with the first bundle found referring to it. */
  async check(refs: readonly StreamRef[], bundle: string, range: BundleKey): Promise<void> {
    const { location } = this;
    if (!location) {
      this.unchecked ||= refs.length > 0;
      return;
    }
    const fresh = refs.filter((ref) => {
      const key = streamKey(ref);
      if (this.seen.has(key)) return false;
      this.seen.add(key);
      return true;
    });
    this.tally.streams += fresh.length;
    await Promise.all(
      fresh.map((ref) =>
        this.limiter.run(async () => {
          const key = streamKey(ref);
          const where = { key, topic: range.topic, partition: range.partition, bundle };
          const head = await this.store.head(location.bucket, BackupLocation.of(location).key(key)).catch((err: unknown) => {
            if (!(err instanceof UndecryptableObject)) throw err;
            this.tally.problem({ kind: err.kind, ...where, message: `${err.detail}; ${bundle} refers to it` });
            return null;
          });
          if (head === null) return;
          if (head) this.tally.encryptedWith(head.metadata);
          if (!head) {
            this.tally.problem({ kind: 'stream-missing', ...where, message: `is not in the streams bucket ${location.bucket}; ${bundle} refers to it` });
          } else if (head.metadata[MetadataName.format] !== FORMAT_AZUL_STREAM || head.metadata[MetadataName.bodySha256] !== ref.sha256) {
            this.tally.problem({
              kind: 'inconsistent',
              ...where,
              message: `in ${location.bucket}, its metadata says coldstore-format=${head.metadata[MetadataName.format] ?? 'none'} and sha256 ${head.metadata[MetadataName.bodySha256] ?? 'none'}, not ${FORMAT_AZUL_STREAM} and the sha256 in its key; ${bundle} refers to it`,
            });
          }
        }),
      ),
    );
  }

  noteIfUnchecked(): void {
    if (this.unchecked) this.tally.note('stream blobs were not checked: no streams location was given');
  }
}
