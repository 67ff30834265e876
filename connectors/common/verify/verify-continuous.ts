import { BackupLocation } from '../backup-location.js';
import { kafkaLayout } from '../../layouts/kafka-v1/layout.js';
import { forEachBounded } from '../bounded.js';
import { readVerifiedBundle, type BundleExpectation } from './checked-reads.js';
import { ListingCoverage } from './coverage.js';
import { DEFAULT_VERIFY_CONCURRENCY, ReportTally, type VerifyOptions, type VerifyReport } from './report.js';

/**
 * Verifies the continuous backup: every object under the events location (except
 * `~coldstore/`) must be a bundle that checks out against its own metadata, and each
 * partition's bundles must tile its offsets. The listing is read only as fast as
 * objects are checked, so memory stays bounded however large the backup.
 */
export async function verifyContinuousBackup(options: VerifyOptions): Promise<VerifyReport> {
  const { store } = options;
  const location = BackupLocation.of(options.location);
  const tally = new ReportTally(null, location.bucket);
  const coverage = new ListingCoverage();
  let listed = 0;

  async function* bundles(): AsyncGenerator<BundleExpectation> {
    for await (const { key } of location.list(store)) {
      const what = kafkaLayout.classify(key);
      if (what.kind === 'own') continue;
      if (what.kind !== 'bundle') {
        tally.problem({ kind: 'foreign', key, message: 'is not named like a bundle (<topic>/<partition>/<start>-<end>.avro.gz, offsets in 20 digits)' });
        continue;
      }
      const { named } = what;
      // Keys list in offset order within a partition (zero-padded), so coverage is checked from the listing alone.
      tally.problem(coverage.next({ key, ...named }));
      tally.partitions = coverage.size;
      listed++;
      yield { key, ...named };
    }
  }

  await forEachBounded(bundles(), options.concurrency ?? DEFAULT_VERIFY_CONCURRENCY, async (expected) => {
    tally.count(await readVerifiedBundle(store, location, expected));
    options.onProgress?.({ objects: tally.objects, totalObjects: listed, bytes: tally.bytes });
  });
  return tally.toReport();
}
