import type { Connector, ConnectorPlugin } from '../../runtime/api/index.js';
import { validateLocationSettings } from '../common/backup-location.js';
import { probeBackupLocation } from '../common/store-probe.js';
import { restoreSourceConfig } from './config.js';
import { dispatcherRestore, dispatcherTargetErrors } from './dispatcher/connector.js';
import { createKafkaRestoreConnector, kafkaTargetErrors } from './kafka-restore-connector.js';
import { restoreMetricSpecs } from './metrics.js';

/** The connector of the config's target, chosen when it starts: target=dispatcher is the dispatcher restore's. */
function connectorForTarget(): Connector {
  let chosen: Connector = createKafkaRestoreConnector();
  return {
    start: (config, context) => {
      chosen = config['target'] === 'dispatcher' ? dispatcherRestore.create() : createKafkaRestoreConnector();
      return chosen.start(config, context);
    },
    taskConfigs: (maxTasks) => chosen.taskConfigs(maxTasks),
    stop: () => chosen.stop(),
    createTask: () => chosen.createTask(),
  };
}

/**
 * RestoreSource: restores a backup into Kafka (target=kafka, kafka-restore-connector.ts),
 * or with target=dispatcher posts an azul-layout backup to the Azul dispatcher
 * (dispatcher/connector.ts). One connector class and one set of settings for both.
 */
export const restoreSource: ConnectorPlugin = {
  className: 'coldstore.connectors.RestoreSource',
  aliases: ['RestoreSource', 'RestoreSourceConnector'],
  type: 'source',
  version: '1.0.0',
  config: restoreSourceConfig,
  metrics: restoreMetricSpecs,
  probe: (config, signal) => probeBackupLocation(config, config['target'] === 'dispatcher', signal),
  validateAll: (config) => {
    const errors = validateLocationSettings(config);
    if (config['topic.rename.regex'] && !config['topic.rename.replacement']) {
      errors.push({ field: 'topic.rename.replacement', message: 'is required with topic.rename.regex' });
    }
    const settings = restoreSourceConfig.validate(config).values;
    return [...errors, ...(settings.target === 'dispatcher' ? dispatcherTargetErrors(settings) : kafkaTargetErrors(settings))];
  },
  create: connectorForTarget,
};
