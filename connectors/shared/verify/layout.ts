import type { Location } from '../backup-location.js';
import { AZUL_INDEX_PREFIX } from '../../layouts/azul/objects.js';
import type { ObjectStore } from '../object-store/object-store.js';

/** How a BackupSink lays out the events location (its `layout` setting, docs/formats.md). */
export type BackupLayout = 'kafka' | 'azul';

/** What a reader may be told: a layout, or `auto` to find out from the location. */
export const LAYOUT_CHOICES = ['auto', 'kafka', 'azul'] as const;
export type LayoutChoice = (typeof LAYOUT_CHOICES)[number];

/**
 * The layout of the continuous backup in `location`: `azul` as soon as one azul index
 * entry is listed (one list request), otherwise `kafka`. A location holding no index
 * entry yet reads the same either way: it has no azul data to check.
 */
export async function resolveLayout(store: ObjectStore, location: Location, choice: LayoutChoice = 'auto'): Promise<BackupLayout> {
  if (choice !== 'auto') return choice;
  for await (const _entry of store.list(location.bucket, `${location.prefix}${AZUL_INDEX_PREFIX}`)) return 'azul';
  return 'kafka';
}
