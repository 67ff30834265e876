import { defineConfig, type ConfigValues } from '../../../runtime/api/index.js';

function httpUrl(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `is not a URL: "${value}"; give the dispatcher's base URL, e.g. http://azul-dispatcher:8111`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must be an http:// or https:// URL, got "${value}"`;
  if (url.search || url.hash) return `must be a base URL without query or fragment, got "${value}"`;
  return undefined;
}

/** How connectors reach the Azul dispatcher (contract in shared/azul/DISPATCHER.md). */
export const dispatcherConfig = defineConfig({
  'dispatcher.url': {
    type: 'string',
    required: true,
    importance: 'HIGH',
    group: 'Dispatcher',
    check: httpUrl,
    doc: 'Base URL of the Azul dispatcher, e.g. http://azul-dispatcher:8111; event bulks are posted to it.',
  },
  'dispatcher.streams.url': {
    type: 'string',
    group: 'Dispatcher',
    check: httpUrl,
    // Its own key: the original Azul backup built its stream client with the events URL by mistake.
    doc: 'Base URL for stream (binary blob) downloads and uploads; empty: dispatcher.url.',
  },
  'dispatcher.timeout.ms': {
    type: 'int',
    default: 60_000,
    min: 1000,
    group: 'Dispatcher',
    doc: 'How long one dispatcher call (request and whole answer) may take before it fails as transient.',
  },
  'dispatcher.auth.token': {
    type: 'password',
    group: 'Dispatcher',
    doc: 'Sent as "Authorization: Bearer <token>" on every call; empty: no Authorization header. Use a ${env:...} or ${file:...} placeholder.',
  },
});

export type DispatcherSettings = ConfigValues<typeof dispatcherConfig.keys>;
