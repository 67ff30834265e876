import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ColdstoreError, ErrorCodes } from '../api/errors.js';

/** Written by scripts/patch-kafka-client.sh once the client is built with the fidelity patch. */
const MARKER_PREFIX = 'coldstore-fidelity-6';

/**
 * Refuses to run on a Kafka client built without coldstore's fidelity patch: the
 * stock binding silently turns empty keys and values into null and loses null
 * header values and the timestamp type, which would corrupt backups and restores.
 */
export function assertPatchedKafkaClient(): void {
  const require = createRequire(import.meta.url);
  const pkgDir = dirname(require.resolve('@confluentinc/kafka-javascript/package.json'));
  let marker = '';
  try {
    marker = readFileSync(join(pkgDir, 'build', 'Release', '.coldstore-patch'), 'utf8');
  } catch {
    // fall through to the error
  }
  if (!marker.startsWith(MARKER_PREFIX)) {
    throw new ColdstoreError(
      ErrorCodes.KAFKA_ERROR,
      "The Kafka client was built without coldstore's current patch (it would turn empty values into null, and crash when a group coordinator moves). Run `bash scripts/patch-kafka-client.sh` (or `bash scripts/setup.sh`).",
    );
  }
}
