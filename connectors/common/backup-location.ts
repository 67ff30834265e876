import { defineConfig, type ConfigValues } from '../../runtime/api/index.js';
import type { ObjectInfo, ObjectStore } from './object-store/object-store.js';
import { storeConfig, validateStoreSettings } from './object-store/store-config.js';

/** Where a backup lives: the storage settings plus the bucket naming, shared by BackupSink and RestoreSource. */
export const backupLocationConfig = storeConfig.extend(
  defineConfig({
    'backup.label': {
      type: 'string',
      default: 'default',
      group: 'Backup',
      doc: 'Names the backup; a BackupSink given a new label starts a fresh full backup from the beginning of every topic into new buckets.',
      check: (value: string) =>
        /^[a-z0-9][a-z0-9-]{0,40}$/.test(value) ? undefined : 'must be 1-41 characters of a-z, 0-9 and -, starting with a letter or digit',
    },
    'bucket.prefix': {
      type: 'string',
      default: 'coldstore-',
      group: 'Backup',
      doc: 'Prefix of the bucket names: <bucket.prefix><backup.label>-events and -streams.',
      check: (value: string) => (/^[a-z0-9.-]*$/.test(value) ? undefined : 'may contain only a-z, 0-9, "." and "-"'),
    },
    'events.bucket': { type: 'string', group: 'Backup', doc: 'Explicit events bucket name, instead of the prefix + label naming.' },
    'streams.bucket': { type: 'string', group: 'Backup', doc: 'Explicit streams bucket name, instead of the prefix + label naming.' },
    'bucket.shared': { type: 'string', group: 'Backup', doc: 'One bucket for everything, with events/ and streams/ key prefixes.' },
  }).keys,
);

export type BackupLocationSettings = ConfigValues<typeof backupLocationConfig.keys>;

/** Cross-field rules of the location settings, for a plugin's validateAll. */
export function validateLocationSettings(config: Record<string, string>): { field: string; message: string }[] {
  const errors = validateStoreSettings(config);
  const named = [config['events.bucket'], config['streams.bucket']].some(Boolean);
  if (config['bucket.shared'] && named) errors.push({ field: 'bucket.shared', message: 'use either bucket.shared or events.bucket/streams.bucket, not both' });
  return errors;
}

/** A bucket and a key prefix (non-empty only for a shared bucket). */
export interface Location {
  bucket: string;
  prefix: string;
}

/** A listed object, its key relative to the location it was listed in. */
export interface ListedObject extends ObjectInfo {
  fullKey: string;
}

/**
 * A location that builds its full keys and lists by relative key, so the shared
 * bucket's `events/` or `streams/` prefix is added (and taken off) in one place.
 */
export class BackupLocation implements Location {
  constructor(
    readonly bucket: string,
    readonly prefix: string,
  ) {}

  /** Accepts any {bucket, prefix}, as callers and tests pass plain objects. */
  static of(location: Location): BackupLocation {
    return location instanceof BackupLocation ? location : new BackupLocation(location.bucket, location.prefix);
  }

  /** The full key of a key relative to this location. */
  key(relative: string): string {
    return `${this.prefix}${relative}`;
  }

  /** The key relative to this location of a full key in it. */
  relative(fullKey: string): string {
    return fullKey.slice(this.prefix.length);
  }

  /** Objects under a relative prefix in key order, strictly after the relative `startAfter` when given. */
  async *list(store: ObjectStore, prefix = '', startAfter?: string): AsyncGenerator<ListedObject> {
    for await (const item of store.list(this.bucket, this.key(prefix), startAfter === undefined ? undefined : this.key(startAfter))) {
      yield { ...item, key: this.relative(item.key), fullKey: item.key };
    }
  }

  /** The directory names right under a relative prefix. */
  listDirectories(store: ObjectStore, prefix = ''): Promise<string[]> {
    return store.listDirectories(this.bucket, this.key(prefix));
  }
}

export function eventsLocation(settings: BackupLocationSettings): BackupLocation {
  if (settings['bucket.shared']) return new BackupLocation(settings['bucket.shared'], 'events/');
  return new BackupLocation(settings['events.bucket'] ?? `${settings['bucket.prefix']}${settings['backup.label']}-events`, '');
}

export function streamsLocation(settings: BackupLocationSettings): BackupLocation {
  if (settings['bucket.shared']) return new BackupLocation(settings['bucket.shared'], 'streams/');
  return new BackupLocation(settings['streams.bucket'] ?? `${settings['bucket.prefix']}${settings['backup.label']}-streams`, '');
}
