import { open, type FileHandle } from 'node:fs/promises';
import {
  defineConfig,
  type ConnectorPlugin,
  type PollResult,
  type RawConfig,
  type SourceRecord,
  type SourceTask,
  type SourceTaskContext,
} from '../../runtime/api/index.js';

const config = defineConfig({
  file: { type: 'string', required: true, importance: 'HIGH', doc: 'File whose lines become records.' },
  topic: { type: 'string', required: true, importance: 'HIGH', doc: 'Topic the lines are produced to.' },
  'batch.size': { type: 'int', default: 500, min: 1, doc: 'Most lines returned by one poll.' },
  'finish.at.eof': { type: 'boolean', default: false, doc: 'End the task (state FINISHED) at the end of the file instead of waiting for more lines.' },
});

/** Reads a file line by line; the source offset is the byte position after the last line produced. */
class FileSourceTask implements SourceTask {
  private file!: FileHandle;
  private path = '';
  private topic = '';
  private batchSize = 500;
  private finishAtEof = false;
  private position = 0;
  private produced = 0;
  private pending = Buffer.alloc(0);

  async start(cfg: RawConfig, context: SourceTaskContext): Promise<void> {
    const { values } = config.validate(cfg);
    this.path = values.file;
    this.topic = values.topic;
    this.batchSize = values['batch.size'];
    this.finishAtEof = values['finish.at.eof'];
    const stored = await context.offset({ file: this.path });
    this.position = typeof stored?.['position'] === 'number' ? stored['position'] : 0;
    this.file = await open(this.path, 'r');
  }

  async poll(): Promise<PollResult> {
    const records: SourceRecord[] = [];
    const chunk = Buffer.alloc(64 * 1024);
    let readAt = this.position + this.pending.length;
    while (records.length < this.batchSize) {
      const newline = this.pending.indexOf(0x0a);
      if (newline < 0) {
        const { bytesRead } = await this.file.read(chunk, 0, chunk.length, readAt);
        if (bytesRead === 0) break;
        readAt += bytesRead;
        this.pending = Buffer.concat([this.pending, chunk.subarray(0, bytesRead)]);
        continue;
      }
      const line = this.pending.subarray(0, newline);
      this.pending = this.pending.subarray(newline + 1);
      this.position += newline + 1;
      records.push({
        sourcePartition: { file: this.path },
        sourceOffset: { position: this.position },
        topic: this.topic,
        key: null,
        value: Buffer.from(line),
      });
    }
    this.produced += records.length;
    if (records.length === 0 && this.finishAtEof) return { done: true, summary: { lines: this.produced, position: this.position } };
    return { records };
  }

  progress(): Record<string, unknown> {
    return { lines: this.produced, position: this.position };
  }

  async stop(): Promise<void> {
    await this.file?.close();
  }
}

export const fileStreamSource: ConnectorPlugin = {
  className: 'coldstore.connectors.FileStreamSource',
  aliases: ['FileStreamSource', 'FileStreamSourceConnector'],
  type: 'source',
  version: '1.0.0',
  config,
  create: () => {
    let cfg: RawConfig = {};
    return {
      start: (c) => {
        cfg = c;
      },
      taskConfigs: () => [cfg],
      stop: () => {},
      createTask: () => new FileSourceTask(),
    };
  },
};
