/**
 * The status page's history: every connector's records/s and backup lag over the last
 * few minutes, and how long the oldest record not yet durable of each BackupSink has
 * waited. Kept on the worker, so a reload of /ui keeps its charts; served as
 * GET /ui/history (routes.ts). Bounded: `points` per connector, ARRIVAL_LOG_CAPACITY
 * observations per BackupSink partition; a deleted connector's history goes with it.
 */
import { backupSink } from '../../connectors/backup-sink/connector.js';
import { restoreSource } from '../../connectors/restore-source/connector.js';
import type { HerderApi } from '../../runtime/herder/herder-api.js';
import { ArrivalLog, type UndurableAge } from './arrival-log.js';
import { readSample, recordsPerSecond, totalLag, type ConnectorSample } from './connector-sample.js';

export interface UiSamplerOptions {
  /** How often a chart point is taken (default 15 s). */
  sampleIntervalMs?: number;
  /** Chart points kept per connector (default 60: 15 minutes at 15 s). */
  points?: number;
  /** How often end offsets are observed for the age of the oldest record not yet durable (default 1 s). */
  observeIntervalMs?: number;
}

/** backup: a BackupSink (lag and freshness apply); restore: a RestoreSource. */
export type ConnectorKind = 'backup' | 'restore' | 'other';

export interface HistoryPoint {
  /** Epoch milliseconds. */
  at: number;
  recordsPerSecond: number | null;
  /** BackupSinks only: records not yet durable. */
  lag: number | null;
  /** BackupSinks only: how long the oldest record not yet durable has waited. */
  undurableAgeMs: number | null;
}

export interface ConnectorHistory {
  kind: ConnectorKind;
  points: HistoryPoint[];
  /** BackupSinks only, as of the last observation: the oldest record not yet durable over every partition. */
  undurable?: UndurableAge & { partition: string | null; observedAt: number };
}

export interface UiHistory {
  sampleIntervalMs: number;
  points: number;
  connectors: Record<string, ConnectorHistory>;
}

class Tracked {
  readonly points: HistoryPoint[] = [];
  readonly arrivals = new Map<string, ArrivalLog>();
  lastPointSample: ConnectorSample | undefined;
  undurable: ConnectorHistory['undurable'];

  constructor(readonly kind: ConnectorKind) {}

  /** Notes each partition's end offset and works out the oldest record not yet durable. */
  observe(sample: ConnectorSample): void {
    let oldest: UndurableAge & { partition: string | null } = { ageMs: 0, atLeast: false, partition: null };
    const present = new Set<string>();
    for (const p of sample.partitions) {
      present.add(p.key);
      let log = this.arrivals.get(p.key);
      if (!log) this.arrivals.set(p.key, (log = new ArrivalLog()));
      if (p.end !== undefined) log.observe(sample.at, p.end);
      if (p.durable === undefined) continue;
      const age = log.age(p.durable, sample.at);
      if (age.ageMs > oldest.ageMs) oldest = { ...age, partition: p.key };
    }
    // A partition no task of this connector reports any more (moved, topic dropped) is forgotten.
    for (const key of this.arrivals.keys()) if (!present.has(key)) this.arrivals.delete(key);
    this.undurable = { ...oldest, observedAt: sample.at };
  }

  addPoint(sample: ConnectorSample, capacity: number): void {
    const backup = this.kind === 'backup';
    this.points.push({
      at: sample.at,
      recordsPerSecond: recordsPerSecond(this.lastPointSample, sample) ?? null,
      lag: backup ? (totalLag(sample) ?? null) : null,
      undurableAgeMs: backup && this.undurable ? this.undurable.ageMs : null,
    });
    if (this.points.length > capacity) this.points.splice(0, this.points.length - capacity);
    this.lastPointSample = sample;
  }
}

export class UiSampler {
  readonly sampleIntervalMs: number;
  readonly capacity: number;
  private readonly observeIntervalMs: number;
  private readonly tracked = new Map<string, Tracked>();
  private lastPointAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly herder: HerderApi,
    options: UiSamplerOptions = {},
  ) {
    this.sampleIntervalMs = options.sampleIntervalMs ?? 15_000;
    this.capacity = options.points ?? 60;
    this.observeIntervalMs = Math.min(options.observeIntervalMs ?? 1_000, this.sampleIntervalMs);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.observeIntervalMs);
    // The sampler only watches: it must never keep a stopping worker alive.
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One observation of every connector; a chart point too when one is due. */
  tick(now = Date.now()): void {
    const names = new Set(this.herder.names());
    for (const name of this.tracked.keys()) if (!names.has(name)) this.tracked.delete(name);
    const due = now - this.lastPointAt >= this.sampleIntervalMs;
    if (due) this.lastPointAt = now;
    for (const name of names) {
      let sample: ConnectorSample;
      let kind: ConnectorKind;
      try {
        kind = this.kindOf(name);
        sample = readSample(this.herder.status(name), now);
      } catch {
        // Deleted between names() and here, or not started yet: the next tick sees it.
        continue;
      }
      let entry = this.tracked.get(name);
      if (!entry || entry.kind !== kind) this.tracked.set(name, (entry = new Tracked(kind)));
      if (kind === 'backup') entry.observe(sample);
      if (due) entry.addPoint(sample, this.capacity);
    }
  }

  history(): UiHistory {
    const connectors: Record<string, ConnectorHistory> = {};
    for (const [name, entry] of this.tracked) {
      connectors[name] = { kind: entry.kind, points: entry.points, ...(entry.undurable ? { undurable: entry.undurable } : {}) };
    }
    return { sampleIntervalMs: this.sampleIntervalMs, points: this.capacity, connectors };
  }

  private kindOf(name: string): ConnectorKind {
    const plugin = this.herder.plugins.find(String(this.herder.info(name).config['connector.class']));
    if (plugin === backupSink) return 'backup';
    if (plugin === restoreSource) return 'restore';
    return 'other';
  }
}
