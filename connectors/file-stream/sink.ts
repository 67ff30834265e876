import { open, type FileHandle } from 'node:fs/promises';
import {
  defineConfig,
  RetriableError,
  tpKey,
  type ConnectorPlugin,
  type PartitionOffsets,
  type RawConfig,
  type SinkRecord,
  type SinkTask,
  type TopicPartition,
} from '../../runtime/api/index.js';

const config = defineConfig({
  file: { type: 'string', required: true, importance: 'HIGH', doc: 'File the records are appended to, one JSON object per line.' },
});

/** One line of the sink's output; bytes are base64 so any record round-trips. */
export interface FileSinkLine {
  topic: string;
  partition: number;
  offset: string;
  timestamp: number;
  timestampType: string;
  key: string | null;
  value: string | null;
  headers: { key: string; value: string | null }[];
}

function toLine(r: SinkRecord): string {
  const line: FileSinkLine = {
    topic: r.topic,
    partition: r.partition,
    offset: r.offset.toString(),
    timestamp: r.timestamp,
    timestampType: r.timestampType,
    key: r.key?.toString('base64') ?? null,
    value: r.value?.toString('base64') ?? null,
    headers: r.headers.map((h) => ({ key: h.key, value: h.value?.toString('base64') ?? null })),
  };
  return `${JSON.stringify(line)}\n`;
}

/**
 * Appends records to a local file. put() writes, preCommit() fsyncs and only
 * then reports the written offsets as durable: the smallest honest sink, used
 * to exercise the runtime's commit protocol end to end.
 */
class FileSinkTask implements SinkTask {
  private file!: FileHandle;
  private written: PartitionOffsets = new Map();

  async start(cfg: RawConfig): Promise<void> {
    const { values } = config.validate(cfg);
    try {
      this.file = await open(values.file, 'a');
    } catch (err) {
      throw new RetriableError(`Cannot open ${values.file}: ${(err as Error).message}`, { cause: err });
    }
  }

  async open(): Promise<void> {}

  async put(records: SinkRecord[]): Promise<void> {
    await this.file.appendFile(records.map(toLine).join(''));
    for (const r of records) this.written.set(tpKey(r), r.offset + 1n);
  }

  async preCommit(): Promise<PartitionOffsets> {
    const durable = new Map(this.written);
    await this.file.sync();
    return durable;
  }

  async close(partitions: TopicPartition[]): Promise<void> {
    for (const tp of partitions) this.written.delete(tpKey(tp));
  }

  async stop(): Promise<void> {
    await this.file?.close();
  }
}

export const fileStreamSink: ConnectorPlugin = {
  className: 'coldstore.connectors.FileStreamSink',
  aliases: ['FileStreamSink', 'FileStreamSinkConnector'],
  type: 'sink',
  version: '1.0.0',
  config,
  create: () => {
    let cfg: RawConfig = {};
    return {
      start: (c) => {
        cfg = c;
      },
      // One file cannot take concurrent appenders safely, so one task.
      taskConfigs: () => [cfg],
      stop: () => {},
      createTask: () => new FileSinkTask(),
    };
  },
};
