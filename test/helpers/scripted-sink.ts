import {
  defineConfig,
  RetriableError,
  tpKey,
  type ConnectorPlugin,
  type PartitionOffsets,
  type SinkRecord,
  type SinkTask,
  type TopicPartition,
} from '../../runtime/api/index.js';

/** Fault injection: a sink whose put fails as scripted, keeping what it accepted in memory. */
export interface Script {
  accepted: (SinkRecord & { task: number })[];
  /** Partitions each task was given by open() and taken by close(), in order. */
  events: string[];
  failPutCalls: Set<number>;
  fatalOnCall?: number;
  preCommitCalls: PartitionOffsets[];
}
export const scripts = new Map<string, Script>();

/** A fresh script registered under the connector's name (its `script` setting). */
export function newScript(name: string, faults: Partial<Pick<Script, 'failPutCalls' | 'fatalOnCall'>> = {}): Script {
  const script: Script = { accepted: [], events: [], failPutCalls: new Set(), preCommitCalls: [], ...faults };
  scripts.set(name, script);
  return script;
}

class ScriptedSinkTask implements SinkTask {
  private script!: Script;
  private calls = 0;
  private stored: PartitionOffsets = new Map();
  private task = 0;
  async start(config: Record<string, string>) {
    this.script = scripts.get(config['script']!)!;
    this.task = Number(config['task.id'] ?? 0);
  }
  async open(partitions: TopicPartition[]) {
    this.script.events.push(`open ${this.task} ${partitions.map(tpKey).sort().join(',')}`);
  }
  async put(records: SinkRecord[]) {
    this.calls++;
    if (this.script.fatalOnCall === this.calls) throw new Error('scripted fatal failure');
    if (this.script.failPutCalls.has(this.calls)) throw new RetriableError(`scripted retriable failure #${this.calls}`);
    this.script.accepted.push(...records.map((r) => ({ ...r, task: this.task })));
    for (const r of records) this.stored.set(tpKey(r), r.offset + 1n);
  }
  async preCommit(consumed: PartitionOffsets) {
    this.script.preCommitCalls.push(new Map(consumed));
    return new Map(this.stored);
  }
  async close(partitions: TopicPartition[]) {
    this.script.events.push(`close ${this.task} ${partitions.map(tpKey).sort().join(',')}`);
    for (const tp of partitions) this.stored.delete(tpKey(tp));
  }
  async stop() {}
}

export const scriptedSink: ConnectorPlugin = {
  className: 'test.ScriptedSink',
  type: 'sink',
  version: 'test',
  config: defineConfig({ script: { type: 'string', required: true, doc: 'script id' } }),
  create: () => {
    let cfg: Record<string, string> = {};
    return {
      start: (c) => void (cfg = c),
      taskConfigs: (max) => Array.from({ length: max }, (_, i) => ({ ...cfg, 'task.id': String(i) })),
      stop: () => {},
      createTask: () => new ScriptedSinkTask(),
    };
  },
};
