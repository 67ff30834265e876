import type { Connector, ConnectorPlugin, RawConfig } from '../../runtime/api/index.js';
import type { BackupParticipant, TakesPartInBackups } from '../common/backups.js';
import { eventsLocation, validateLocationSettings } from '../common/backup-location.js';
import { createObjectStore } from '../common/object-store/store-config.js';
import { probeBackupLocation } from '../common/store-probe.js';
import { backupParticipant } from './backup-participant.js';
import { ClusterSnapshots } from './cluster-snapshots.js';
import { backupSinkConfig } from './config.js';
import { applyLifecycle } from './lifecycle.js';
import { backupMetricSpecs } from './metrics.js';
import { BackupSinkTask } from './task.js';

/**
 * BackupSink: every task gets the same config; Kafka's group assignment splits
 * the partitions between them. The connector itself applies age-off rules, keeps
 * topic and group metadata for restores, and takes part in backups by id.
 */
export const backupSink: ConnectorPlugin = {
  className: 'coldstore.connectors.BackupSink',
  aliases: ['BackupSink', 'BackupSinkConnector'],
  type: 'sink',
  version: '1.0.0',
  config: backupSinkConfig,
  metrics: backupMetricSpecs,
  probe: (config, signal) => probeBackupLocation(config, backupSinkConfig.validate(config).values.layout === 'azul', signal),
  validateAll: (config) => {
    const errors = validateLocationSettings(config);
    const settings = backupSinkConfig.validate(config).values;
    if (settings.layout === 'azul' && !settings['dispatcher.url'])
      errors.push({ field: 'dispatcher.url', message: 'is required with layout azul (streams are downloaded from the dispatcher)' });
    if (settings.layout !== 'azul') {
      for (const key of ['azul.sources.exclude', 'azul.sources.expire'] as const) {
        if (settings[key].length > 0) errors.push({ field: key, message: 'applies only to layout azul' });
      }
    }
    return errors;
  },
  create: (): Connector & TakesPartInBackups => {
    let config: RawConfig = {};
    let snapshots: ClusterSnapshots | undefined;
    let participant: BackupParticipant | undefined;
    return {
      start: async (c, context) => {
        config = c;
        const settings = backupSinkConfig.validate(c).values;
        const store = createObjectStore(settings);
        if (!context.observer) await applyLifecycle(settings, store, context.log);
        snapshots = new ClusterSnapshots({ settings, config: c, cluster: context.cluster, store, location: eventsLocation(settings), log: context.log });
        if (!context.observer) snapshots.start();
        // The azul layout has no manifests yet: its connectors are left out of backups by id rather than blocking them.
        participant = settings.layout === 'azul' ? undefined : backupParticipant({ connector: context.name, settings, store, snapshots });
      },
      backups: () => participant,
      taskConfigs: (maxTasks) => Array.from({ length: maxTasks }, () => ({ ...config })),
      stop: () => snapshots?.stop(),
      createTask: () => new BackupSinkTask(),
    };
  },
};
