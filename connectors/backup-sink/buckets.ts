import type { BackupSinkSettings } from './config.js';

/** Where a backup's objects go: the bucket and a key prefix (non-empty only for a shared bucket). */
export interface Location {
  bucket: string;
  prefix: string;
}

export function eventsLocation(settings: BackupSinkSettings): Location {
  if (settings['bucket.shared']) return { bucket: settings['bucket.shared'], prefix: 'events/' };
  return { bucket: settings['events.bucket'] ?? `${settings['bucket.prefix']}${settings['backup.label']}-events`, prefix: '' };
}

export function streamsLocation(settings: BackupSinkSettings): Location {
  if (settings['bucket.shared']) return { bucket: settings['bucket.shared'], prefix: 'streams/' };
  return { bucket: settings['streams.bucket'] ?? `${settings['bucket.prefix']}${settings['backup.label']}-streams`, prefix: '' };
}
