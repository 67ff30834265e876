import type { ConnectorPlugin, RawConfig } from '../../runtime/api/index.js';
import { eventsLocation, validateLocationSettings } from '../shared/backup-location.js';
import { createObjectStore } from '../shared/object-store/store-config.js';
import { ClusterSnapshots } from './cluster-snapshots.js';
import { backupSinkConfig } from './config.js';
import { applyLifecycle } from './lifecycle.js';
import { backupMetricSpecs } from './metrics.js';
import { BackupSinkTask } from './task.js';

/**
 * BackupSink: every task gets the same config; Kafka's group assignment splits
 * the partitions between them. The connector itself only applies age-off rules.
 */
export const backupSink: ConnectorPlugin = {
  className: 'coldstore.connectors.BackupSink',
  aliases: ['BackupSink', 'BackupSinkConnector'],
  type: 'sink',
  version: '1.0.0',
  config: backupSinkConfig,
  metrics: backupMetricSpecs,
  validateAll: validateLocationSettings,
  create: () => {
    let config: RawConfig = {};
    let snapshots: ClusterSnapshots | undefined;
    return {
      start: async (c, context) => {
        config = c;
        const settings = backupSinkConfig.validate(c).values;
        const store = createObjectStore(settings);
        await applyLifecycle(settings, store, context.log);
        snapshots = new ClusterSnapshots({ settings, config: c, cluster: context.cluster, store, location: eventsLocation(settings), log: context.log });
        snapshots.start();
      },
      taskConfigs: (maxTasks) => Array.from({ length: maxTasks }, () => ({ ...config })),
      stop: () => snapshots?.stop(),
      createTask: () => new BackupSinkTask(),
    };
  },
};
