import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtInPlugins } from '../../connectors/index.js';
import { validateConnectorConfig } from '../../runtime/config/connector-config.js';
import { PluginRegistry } from '../../runtime/plugins/registry.js';

const dir = join(import.meta.dirname, '../../config/examples');

describe('config/examples', () => {
  const registry = new PluginRegistry(builtInPlugins);
  // The S3 example takes its secret from this variable, as the docs tell operators to.
  process.env['COLDSTORE_S3_SECRET'] ??= 'example-secret';
  it.each(readdirSync(dir).filter((f) => f.endsWith('.json')))('%s is a valid connector file', (file) => {
    const { name, config } = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { name: string; config: Record<string, string> };
    expect(name).toMatch(/^[a-z0-9-]+$/);
    expect(validateConnectorConfig(registry, { ...config, name }).errors).toEqual([]);
  });
});
