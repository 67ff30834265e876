import { AZUL_INDEX_PREFIX } from '../../layouts/azul/objects.js';
import type { Layout, LayoutName } from '../../layouts/layout.js';
import { LAYOUT_NAMES, layoutNamed } from '../../layouts/layouts.js';
import { BackupLocation, type Location } from '../backup-location.js';
import type { ObjectStore } from '../object-store/object-store.js';

/** How a BackupSink lays out the events location (its `layout` setting, docs/formats.md). */
export type BackupLayout = LayoutName;

/** What a reader may be told: a layout, or `auto` to find out from the location. */
export const LAYOUT_CHOICES = ['auto', ...LAYOUT_NAMES] as const;
export type LayoutChoice = 'auto' | LayoutName;

/**
 * The layout of the continuous backup in `location`: `azul` as soon as one azul index
 * entry is listed (one list request), otherwise `kafka`. A location holding no index
 * entry yet reads the same either way: it has no azul data to check.
 */
export async function resolveLayout(store: ObjectStore, location: Location, choice: LayoutChoice = 'auto'): Promise<Layout> {
  if (choice !== 'auto') return layoutNamed(choice);
  for await (const _entry of BackupLocation.of(location).list(store, AZUL_INDEX_PREFIX)) return layoutNamed('azul');
  return layoutNamed('kafka');
}
