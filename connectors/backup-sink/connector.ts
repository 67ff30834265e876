import type { ConnectorPlugin, RawConfig } from '../../runtime/api/index.js';
import { validateStoreSettings } from '../shared/object-store/store-config.js';
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
  validateAll: (config) => {
    const errors = validateStoreSettings(config);
    const named = [config['events.bucket'], config['streams.bucket']].some(Boolean);
    if (config['bucket.shared'] && named) errors.push({ field: 'bucket.shared', message: 'use either bucket.shared or events.bucket/streams.bucket, not both' });
    return errors;
  },
  create: () => {
    let config: RawConfig = {};
    return {
      start: async (c, context) => {
        config = c;
        await applyLifecycle(backupSinkConfig.validate(c).values, context.log);
      },
      taskConfigs: (maxTasks) => Array.from({ length: maxTasks }, () => ({ ...config })),
      stop: () => {},
      createTask: () => new BackupSinkTask(),
    };
  },
};
