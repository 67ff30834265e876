import { ColdstoreError, ConfigError, ErrorCodes, type Connector, type ConnectorPlugin, type RawConfig } from '../../../runtime/api/index.js';
import { eventsLocation, streamsLocation, validateLocationSettings } from '../../common/backup-location.js';
import type { ObjectStore } from '../../common/object-store/object-store.js';
import { createObjectStore } from '../../common/object-store/store-config.js';
import { restoreSourceConfig, type RestoreSourceSettings } from '../config.js';
import { restoreMetricSpecs } from '../metrics.js';
import { withStoreRetries } from '../store-retries.js';
import { sourcesIn } from './backup-objects.js';
import { RestoreTaskOfConfig } from '../task-of-config.js';

/** The backup holds Azul sources, and every source to restore (in its events or streams bucket). */
async function checkAzulBackup(store: ObjectStore, settings: RestoreSourceSettings): Promise<void> {
  const locations = [eventsLocation(settings), streamsLocation(settings)];
  const found = new Set<string>();
  for (const location of locations) for (const source of await sourcesIn(store, location, [])) found.add(source);
  const wanted = settings['restore.sources'];
  const missing = wanted.filter((s) => !found.has(s));
  if (found.size > 0 && missing.length === 0) return;
  const where = `buckets ${locations.map((l) => `${l.bucket}${l.prefix ? ` (prefix ${l.prefix})` : ''}`).join(' and ')}`;
  throw new ColdstoreError(
    ErrorCodes.BACKUP_NOT_FOUND,
    found.size === 0
      ? `The backup in ${store.description} ${where} holds no Azul source. Check backup.label and the bucket settings.`
      : `The backup in ${store.description} ${where} holds no source ${missing.join(', ')}; it holds ${[...found].sort().join(', ')}. Check restore.sources.`,
  );
}

/** A dispatcher restore takes none of the settings that only the Kafka target honours: they would be ignored silently. */
export function dispatcherTargetErrors(settings: RestoreSourceSettings): { field: string; message: string }[] {
  const errors: { field: string; message: string }[] = [];
  const kafkaOnly = {
    topics: settings.topics.length > 0,
    'restore.backup.id': settings['restore.backup.id'] !== undefined,
    'restore.until.timestamp': settings['restore.until.timestamp'] !== undefined,
    'restore.until.offsets': settings['restore.until.offsets'].length > 0,
    groups: settings.groups.length > 0,
  };
  for (const [field, set] of Object.entries(kafkaOnly)) {
    if (set)
      errors.push({
        field,
        message: 'is not used with target=dispatcher, which restores the whole azul backup of the sources in restore.sources (empty: all)',
      });
  }
  if (settings['restore.mode'] === 'follow') {
    errors.push({
      field: 'restore.mode',
      message: 'target=dispatcher restores once: follow mode (a warm standby) is for target=kafka (docs/standby.md says why)',
    });
  }
  if (settings['topics.regex']) errors.push({ field: 'topics.regex', message: 'is for target=kafka with restore.mode=follow' });
  return errors;
}

/** The connector: checks the backup holds the sources, and runs one task. */
export function createDispatcherRestoreConnector(): Connector {
  let config: RawConfig = {};
  return {
    start: (c) => {
      config = c;
      const { values, errors } = restoreSourceConfig.validate(c);
      if (errors.length > 0) throw new ConfigError(errors, 'RestoreSource config');
      const store = createObjectStore(values);
      return withStoreRetries(() => checkAzulBackup(store, values));
    },
    // Streams before events needs one coordinator: one task, parallel inside.
    taskConfigs: () => [{ ...config }],
    stop: () => {},
    createTask: () => new RestoreTaskOfConfig(),
  };
}

/**
 * The dispatcher restore: posts an azul-layout backup to the Azul dispatcher, streams
 * first, then events. Users reach it as RestoreSource with target=dispatcher, whose
 * config keys (restoreSourceConfig) and docs it shares, so it is not registered as a
 * connector class of its own.
 */
export const dispatcherRestore: ConnectorPlugin = {
  className: 'coldstore.connectors.DispatcherRestore',
  type: 'source',
  version: '1.0.0',
  config: restoreSourceConfig,
  metrics: restoreMetricSpecs,
  validateAll: (config) => [...validateLocationSettings(config), ...dispatcherTargetErrors(restoreSourceConfig.validate(config).values)],
  create: createDispatcherRestoreConnector,
};
