import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ConnectorPlugin } from '../api/connector.js';
import { ColdstoreError, ErrorCodes } from '../api/errors.js';

/** Connector plugins known to this worker: the built-in ones plus any loaded from plugin.path. */
export class PluginRegistry {
  private readonly byName = new Map<string, ConnectorPlugin>();
  private readonly plugins: ConnectorPlugin[] = [];

  constructor(plugins: readonly ConnectorPlugin[] = []) {
    for (const plugin of plugins) this.add(plugin);
  }

  add(plugin: ConnectorPlugin): void {
    this.plugins.push(plugin);
    for (const name of [plugin.className, ...(plugin.aliases ?? [])]) this.byName.set(name, plugin);
  }

  find(name: string): ConnectorPlugin | undefined {
    return this.byName.get(name);
  }

  get(name: string): ConnectorPlugin {
    const plugin = this.find(name);
    if (!plugin) throw new ColdstoreError(ErrorCodes.PLUGIN_NOT_FOUND, `No connector plugin "${name}". GET /connector-plugins lists the installed ones.`);
    return plugin;
  }

  list(): readonly ConnectorPlugin[] {
    return this.plugins;
  }

  names(): string[] {
    return this.plugins.map((p) => p.className);
  }

  /** Loads plugin modules: each exports a ConnectorPlugin as default, or an array as `plugins`. */
  async load(paths: readonly string[]): Promise<void> {
    for (const path of paths) {
      let mod: { default?: ConnectorPlugin; plugins?: ConnectorPlugin[] };
      try {
        mod = (await import(pathToFileURL(resolve(path)).href)) as typeof mod;
      } catch (err) {
        throw new ColdstoreError(ErrorCodes.PLUGIN_LOAD_FAILED, `Cannot load plugin module ${path}: ${(err as Error).message}`, { cause: err });
      }
      const found = [...(mod.plugins ?? []), ...(mod.default ? [mod.default] : [])];
      if (found.length === 0) {
        throw new ColdstoreError(ErrorCodes.PLUGIN_LOAD_FAILED, `Plugin module ${path} exports no connector plugin (export default or "plugins").`);
      }
      found.forEach((p) => this.add(p));
    }
  }
}
