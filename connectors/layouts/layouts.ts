import { azulLayout } from './azul/layout.js';
import { kafkaLayout } from './kafka-v1/layout.js';
import type { Layout, LayoutName } from './layout.js';

/** Every layout by the name its BackupSink's `layout` setting gives it. */
const LAYOUTS: Record<LayoutName, Layout> = { kafka: kafkaLayout, azul: azulLayout };

export const LAYOUT_NAMES = Object.keys(LAYOUTS) as LayoutName[];

export function layoutNamed(name: LayoutName): Layout {
  return LAYOUTS[name];
}
