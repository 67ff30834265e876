import type { ConnectorPlugin } from '../runtime/api/index.js';
import { backupSink } from './backup-sink/connector.js';
import { fileStreamSink } from './file-stream/sink.js';
import { fileStreamSource } from './file-stream/source.js';
import { restoreSource } from './restore-source/connector.js';

/** Connector plugins shipped with coldstore. */
export const builtInPlugins: readonly ConnectorPlugin[] = [backupSink, restoreSource, fileStreamSink, fileStreamSource];
