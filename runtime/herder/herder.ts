import type { RawConfig } from '../api/config-def.js';
import { ColdstoreError, ErrorCodes } from '../api/errors.js';
import { configInfos, validateConnectorConfig } from '../config/connector-config.js';
import type { PluginRegistry } from '../plugins/registry.js';
import type { ConfigStore, TargetState } from '../storage/config-store.js';
import type { Worker } from '../worker/worker.js';
import { ConnectorInstance } from './connector-instance.js';
import { ConnectorOffsets, type OffsetEntry } from './connector-offsets.js';
import { SerialQueue } from '../support/serial-queue.js';
import { acceptConfig, patchedConfig, requireStopped, type ConfigPatch } from './config-changes.js';
import { logLevelsOf } from '../telemetry/log-levels.js';
import { forgetActiveTopics, readActiveTopics } from '../worker/active-topics.js';
import type { ConnectorInfo, HerderApi } from './herder-api.js';

/** PUT /connector-plugins/{class}/config/validate: the config checked against the named plugin. */
export function validateWithPlugin(plugins: PluginRegistry, pluginName: string, config: RawConfig) {
  const plugin = plugins.get(pluginName);
  const withClass = { ...config, 'connector.class': config['connector.class'] ?? plugin.className };
  return configInfos(validateConnectorConfig(plugins, withClass), withClass, plugin.className);
}

/** GET /connector-plugins/{plugin}/config (KIP-769): the plugin's config definitions, as validate describes them. */
export function pluginConfigDefinitions(plugins: PluginRegistry, pluginName: string) {
  return validateWithPlugin(plugins, pluginName, {}).configs.map((c) => c.definition);
}

export type { ConnectorInfo } from './herder-api.js';

/**
 * The standalone herder: keeps the desired state (configs and target states,
 * persisted in the config store) apart from the observed state (connector
 * instances and their tasks), and applies one to the other. Changes to the
 * same worker are serialised so concurrent REST calls cannot interleave.
 */
export class Herder implements HerderApi {
  private readonly instances = new Map<string, ConnectorInstance>();
  private readonly queue = new SerialQueue();
  readonly offsets: ConnectorOffsets;

  constructor(
    private readonly worker: Worker,
    private readonly configs: ConfigStore,
    readonly plugins: PluginRegistry,
  ) {
    this.offsets = new ConnectorOffsets(worker);
  }

  /** Resumes every connector the config store holds, each in its target state. */
  start(): Promise<void> {
    return this.queue.run(async () => {
      for (const record of await this.configs.list()) {
        const plugin = this.plugins.find(record.config['connector.class'] ?? '');
        if (!plugin) {
          this.worker.log.error(
            { connector: record.name, class: record.config['connector.class'] },
            'stored connector has no installed plugin; it is not started',
          );
          continue;
        }
        const instance = new ConnectorInstance(record, plugin, this.worker);
        this.instances.set(record.name, instance);
        await instance.apply();
      }
    });
  }

  stop(): Promise<void> {
    return this.queue.run(async () => {
      await Promise.all([...this.instances.values()].map((i) => i.shutdown()));
    });
  }

  names(): string[] {
    return [...this.instances.keys()].sort();
  }

  private instance(name: string): ConnectorInstance {
    const found = this.instances.get(name);
    if (!found) throw new ColdstoreError(ErrorCodes.CONNECTOR_NOT_FOUND, `Connector ${name} not found. GET /connectors lists the existing ones.`);
    return found;
  }

  info(name: string): ConnectorInfo {
    const instance = this.instance(name);
    return {
      name,
      config: instance.maskedConfig(),
      tasks: instance.maskedTaskConfigs().map((_, task) => ({ connector: name, task })),
      type: instance.plugin.type,
    };
  }

  /** Every sink partition's committed position, for the metrics. */
  committedOffsets() {
    return [...this.instances.values()].flatMap((i) => i.committedOffsets());
  }

  status(name: string) {
    return this.instance(name).status();
  }

  /** The connector instance with this name, if any (the backup catalogue watches their tasks). */
  find(name: string): ConnectorInstance | undefined {
    return this.instances.get(name);
  }

  async observe(name: string) {
    return this.instances.get(name)?.startedConnector();
  }

  taskStatus(name: string, id: number) {
    const found = this.instance(name).taskStatus(id);
    if (!found) throw new ColdstoreError(ErrorCodes.TASK_NOT_FOUND, `Task ${id} of connector ${name} not found.`);
    return found;
  }

  tasks(name: string) {
    return this.instance(name)
      .maskedTaskConfigs()
      .map((config, task) => ({ id: { connector: name, task }, config }));
  }

  validate(pluginName: string, config: RawConfig) {
    return validateWithPlugin(this.plugins, pluginName, config);
  }

  /** Creates or replaces a connector's config. `created` tells which. */
  putConfig(name: string, config: RawConfig, mustNotExist: boolean, initialTarget?: TargetState): Promise<{ created: boolean; info: ConnectorInfo }> {
    return this.queue.run(() => this.applyConfig(name, config, mustNotExist, initialTarget));
  }

  patchConfig(name: string, patch: ConfigPatch): Promise<ConnectorInfo> {
    return this.queue.run(async () => (await this.applyConfig(name, patchedConfig(this.instance(name).record.config, patch), false)).info);
  }

  private async applyConfig(name: string, config: RawConfig, mustNotExist: boolean, initialTarget?: TargetState) {
    const existing = this.instances.get(name);
    const accepted = acceptConfig(this.plugins, name, config, existing?.record, mustNotExist, initialTarget);
    // The same config again (e.g. a connector file re-applied at start) changes nothing: no restart.
    if (accepted === 'unchanged') return { created: false, info: this.info(name) };
    const { record, plugin } = accepted;
    await this.configs.put(record);
    await existing?.shutdown();
    const instance = new ConnectorInstance(record, plugin, this.worker);
    this.instances.set(name, instance);
    await instance.apply();
    return { created: !existing, info: this.info(name) };
  }

  delete(name: string): Promise<void> {
    return this.queue.run(async () => {
      const instance = this.instance(name);
      await instance.shutdown();
      await this.configs.remove(name);
      this.instances.delete(name);
      // Kafka Connect forgets a deleted connector's active topics too.
      await forgetActiveTopics(this.worker.activeTopicsStore, name);
      logLevelsOf(this.worker.log).forgetConnector(name);
    });
  }

  setTarget(name: string, target: TargetState): Promise<void> {
    return this.queue.run(async () => {
      const instance = this.instance(name);
      instance.record = { ...instance.record, target };
      await this.configs.put(instance.record);
      await instance.apply();
    });
  }

  restart(name: string, includeTasks: boolean, onlyFailed: boolean): Promise<void> {
    return this.queue.run(() => this.instance(name).restart(includeTasks, onlyFailed));
  }

  restartTask(name: string, id: number): Promise<void> {
    return this.queue.run(async () => {
      const instance = this.instance(name);
      if (!instance.hasTask(id)) throw new ColdstoreError(ErrorCodes.TASK_NOT_FOUND, `Task ${id} of connector ${name} not found.`);
      await instance.restartTask(id);
    });
  }

  getOffsets(name: string): Promise<{ offsets: OffsetEntry[] }> {
    const instance = this.instance(name);
    return this.offsets.read(name, instance.plugin.type);
  }

  private requireStopped(name: string): ConnectorInstance {
    const instance = this.instance(name);
    requireStopped(instance.record, 'offsets');
    return instance;
  }

  alterOffsets(name: string, body: unknown): Promise<void> {
    return this.queue.run(async () => {
      const instance = this.requireStopped(name);
      await this.offsets.alter(name, instance.plugin.type, body);
    });
  }

  resetOffsets(name: string): Promise<void> {
    return this.queue.run(async () => {
      const instance = this.requireStopped(name);
      await this.offsets.reset(name, instance.plugin.type);
    });
  }

  activeTopics(name: string): Promise<string[]> {
    this.instance(name);
    return readActiveTopics(this.worker.activeTopicsStore, name);
  }

  resetActiveTopics(name: string): Promise<void> {
    return this.queue.run(async () => {
      requireStopped(this.instance(name).record, 'topics');
      await forgetActiveTopics(this.worker.activeTopicsStore, name);
    });
  }
}
