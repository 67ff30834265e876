/** The connector API: the only module connectors import from the runtime. */
export * from './errors.js';
export * from './config-def.js';
export * from './records.js';
export * from './cluster.js';
export * from './connector.js';
export * from './sink.js';
export * from './source.js';
export * from './task-state.js';
export * from './task-logger.js';
export * from './failpoints.js';
export * from './retry.js';
export * from './metrics.js';
export * from './compression.js';
