import type { RawConfig, SinkTaskContext } from '../../../runtime/api/index.js';
import { streamsLocation } from '../../common/backup-location.js';
import type { DispatcherSettings } from '../../common/dispatcher/config.js';
import { createDispatcher } from '../../common/dispatcher/http-dispatcher.js';
import type { ObjectStore } from '../../common/object-store/object-store.js';
import { BundleUploader } from '../bundle-uploader.js';
import type { BackupSinkSettings } from '../config.js';
import { AzulLayout } from './azul-layout.js';
import { StreamArchiver } from './stream-archiver.js';
import { StreamSpool } from './stream-spool.js';

/** Quick retries of one stream download, and the first delay between them (doubling). */
const DOWNLOAD_ATTEMPTS = 3;
const DOWNLOAD_RETRY_MS = 500;

/** Wires the azul layout of one task: event bundles, the stream archiver, its spool and its missing list. */
export function createAzulLayout(args: {
  settings: BackupSinkSettings;
  /** The task's config as given, to spot settings that no longer exist. */
  raw: RawConfig;
  store: ObjectStore;
  events: BundleUploader;
  context: SinkTaskContext;
  stopped: () => boolean;
}): AzulLayout {
  const { settings, context } = args;
  const streams = new BundleUploader({
    store: args.store,
    location: streamsLocation(settings),
    gzipLevel: settings['streams.gzip.level'],
    permanentErrorRetries: settings['upload.permanent.error.retries'],
    log: context.log,
    metrics: context.metrics,
    stopped: args.stopped,
  });
  const spool = new StreamSpool({
    store: args.store,
    location: streams.location,
    connector: context.connectorName,
    withRetries: (what, work) => streams.withRetries(what, work),
  });
  const missing = new StreamSpool({
    store: args.store,
    location: streams.location,
    connector: context.connectorName,
    list: 'missing',
    withRetries: (what, work) => streams.withRetries(what, work),
  });
  // The spool moved into the store so a worker that dies for good cannot take it along; old configs still name a directory.
  if (args.raw['streams.spool.dir']) {
    context.log.warn(
      { setting: 'streams.spool.dir' },
      `streams.spool.dir is obsolete and ignored: the spool is in the object store at ${spool.description}; entries left in the old directory are not moved there`,
    );
  }
  const archiver = new StreamArchiver({
    // validateAll makes dispatcher.url present whenever layout is azul.
    dispatcher: createDispatcher(settings as DispatcherSettings),
    uploader: streams,
    spool,
    missing,
    cacheSize: settings['streams.cache.size'],
    maxInFlight: settings['streams.max.in.flight'],
    maxInFlightBytes: settings['streams.max.in.flight.bytes'],
    maxConsecutiveFailures: settings['streams.max.consecutive.failures'],
    attempts: DOWNLOAD_ATTEMPTS,
    retryDelayMs: DOWNLOAD_RETRY_MS,
    log: context.log,
    metrics: context.metrics,
    stopped: args.stopped,
  });
  return new AzulLayout({
    events: args.events,
    archiver,
    excludedSources: new Set(settings['azul.sources.exclude']),
    log: context.log,
    metrics: context.metrics,
    spoolRetryMs: settings['streams.spool.retry.ms'],
    missingRetryMs: settings['streams.missing.retry.ms'],
  });
}
