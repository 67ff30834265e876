import type { RawConfig } from '../../runtime/api/index.js';
import { backupLocationConfig, eventsLocation, streamsLocation } from './backup-location.js';
import type { ObjectStore } from './object-store/object-store.js';
import { createObjectStore } from './object-store/store-config.js';

/** Stores kept for probing, by their settings: a probe every few seconds reuses its client and connections. */
const stores = new Map<string, ObjectStore>();
const MAX_STORES = 16;

function storeFor(settings: ReturnType<typeof backupLocationConfig.validate>['values']): ObjectStore {
  const key = JSON.stringify(
    Object.keys(settings)
      .filter((k) => k === 'storage.type' || k.startsWith('s3.') || k === 'local.root')
      .sort()
      .map((k) => [k, settings[k as keyof typeof settings]]),
  );
  let store = stores.get(key);
  if (!store) {
    if (stores.size >= MAX_STORES) stores.delete(stores.keys().next().value!);
    store = createObjectStore(settings);
    stores.set(key, store);
  }
  return store;
}

/**
 * A connector's readiness hook (ConnectorPlugin.probe): the store answers for each bucket
 * the connector works in, the events bucket and, when `streams`, the streams bucket.
 */
export async function probeBackupLocation(config: RawConfig, streams: boolean, signal: AbortSignal): Promise<void> {
  const settings = backupLocationConfig.validate(config).values;
  const store = storeFor(settings);
  const buckets = new Set([eventsLocation(settings).bucket, ...(streams ? [streamsLocation(settings).bucket] : [])]);
  for (const bucket of buckets) await store.probe(bucket, signal);
}
