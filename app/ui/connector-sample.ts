/**
 * What the status page's sampler reads from one connector's status (the same figures
 * GET /connectors/{name}/status shows): per sink partition its end offset and how far it
 * is durable, for a source the records its tasks report. Pure, so the rates are unit-tested.
 */
import type { ConnectorStatus } from '../../runtime/herder/connector-instance.js';

export interface PartitionFigures {
  /** "topic/partition". */
  key: string;
  /** The log end offset, as the task's consumer last saw it. */
  end: number | undefined;
  /** Every record below this offset is durable. */
  durable: number | undefined;
  /** Records not yet durable (end - durable). */
  lag: number | undefined;
}

export interface ConnectorSample {
  at: number;
  partitions: PartitionFigures[];
  /** A source's records so far, summed over its tasks (RestoreSource's progress.records). */
  records: number | undefined;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads the sink partitions (progress.partitions, runtime/worker/owned-partitions.ts) and the source record counts. */
export function readSample(status: ConnectorStatus, at: number): ConnectorSample {
  const partitions: PartitionFigures[] = [];
  let records: number | undefined;
  for (const task of status.tasks) {
    const progress = task.progress;
    if (!isObject(progress)) continue;
    if (Array.isArray(progress.partitions)) {
      for (const p of progress.partitions.filter(isObject)) {
        const end = num(p.end_offset);
        const lag = num(p.lag);
        const durable = end !== undefined && lag !== undefined ? end - lag : num(p.committed_offset);
        partitions.push({ key: `${String(p.topic)}/${String(p.partition)}`, end, durable, lag });
      }
    }
    const taskRecords = num(progress.records);
    if (taskRecords !== undefined) records = (records ?? 0) + taskRecords;
  }
  return { at, partitions, records };
}

/**
 * Records per second between two samples: for a sink, what became durable in the
 * partitions both samples saw (a partition that moved away or arrived counts from its
 * second sample on); for a source, the growth of its record count. A count that went
 * down (a task restarted from its offsets, offsets reset) counts as zero, not negative.
 */
export function recordsPerSecond(previous: ConnectorSample | undefined, current: ConnectorSample): number | undefined {
  if (!previous || current.at <= previous.at) return undefined;
  const seconds = (current.at - previous.at) / 1000;
  if (current.partitions.length > 0 || previous.partitions.length > 0) {
    const before = new Map(previous.partitions.map((p) => [p.key, p.durable]));
    let made = 0;
    let compared = 0;
    for (const p of current.partitions) {
      const was = before.get(p.key);
      if (was === undefined || p.durable === undefined) continue;
      made += Math.max(0, p.durable - was);
      compared++;
    }
    return compared > 0 ? made / seconds : undefined;
  }
  if (previous.records === undefined || current.records === undefined) return undefined;
  return Math.max(0, current.records - previous.records) / seconds;
}

/** Records not yet durable, over every partition the connector's tasks report. */
export function totalLag(sample: ConnectorSample): number | undefined {
  const lags = sample.partitions.map((p) => p.lag).filter((l): l is number => l !== undefined);
  return lags.length > 0 ? lags.reduce((a, b) => a + b, 0) : undefined;
}
