import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { RuntimeNodeInstrumentation } from '@opentelemetry/instrumentation-runtime-node';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { Attributes, Counter, Gauge, Histogram } from '@opentelemetry/api';
import type { MetricAttributes, MetricSpec, TaskMetrics } from '../api/metrics.js';

export type TaskStateSample = { connector: string; task: number; state: string };
export type SinkPositionSample = { connector: string; task: number; topic: string; partition: number; offset: bigint; highWatermark?: bigint };

/** Where the observable gauges read their current values. */
export interface MetricSources {
  taskStates(): TaskStateSample[];
  /** Each sink partition's committed next-offset (end offset minus this is the backlog). */
  sinkPositions(): SinkPositionSample[];
  /** Cluster mode: this worker's role and share of the current assignment. */
  cluster?(): ClusterSample | undefined;
}

export type ClusterSample = { leader: boolean; generation: number; connectors: number; tasks: number; fenced?: boolean };

/**
 * Every metric the runtime exports, declared once. Names follow Prometheus
 * conventions; the OpenTelemetry SDK adds the `_total` suffix to counters.
 */
export class Metrics {
  private readonly exporter = new PrometheusExporter({ preventServerStart: true });
  private readonly serializer = new PrometheusSerializer();
  private readonly provider = new MeterProvider({ readers: [this.exporter] });
  private readonly meter = this.provider.getMeter('coldstore');

  readonly sinkRecords: Counter = this.meter.createCounter('coldstore_sink_records', {
    description: 'Records handed to sink tasks',
  });
  readonly sourceRecords: Counter = this.meter.createCounter('coldstore_source_records', {
    description: 'Records produced by source tasks and acknowledged by Kafka',
  });
  readonly commits: Counter = this.meter.createCounter('coldstore_offset_commits', {
    description: 'Offset commits to the checkpoint store',
  });
  readonly partitionsLost: Counter = this.meter.createCounter('coldstore_sink_partitions_lost', {
    description: 'Partitions a sink task lost without an orderly revocation (session expired, member fenced): dropped, not committed',
  });
  readonly tasksFenced: Counter = this.meter.createCounter('coldstore_tasks_fenced', {
    description: 'Task copies stopped because another worker took the task over (zombie fenced)',
  });
  readonly rebalances: Counter = this.meter.createCounter('coldstore_cluster_rebalances', { description: 'Worker group rebalances this worker took part in' });
  readonly workerFenced: Counter = this.meter.createCounter('coldstore_cluster_worker_fenced', {
    description: 'Times this worker found the group had gone on without it (paused or cut off past session.timeout.ms)',
  });
  readonly taskErrors: Counter = this.meter.createCounter('coldstore_task_errors', {
    description: 'Errors seen by tasks, by kind (retriable, fatal)',
  });
  readonly commitLatency: Histogram = this.meter.createHistogram('coldstore_commit_duration_seconds', {
    description: 'preCommit plus checkpoint write time',
    unit: 's',
    advice: { explicitBucketBoundaries: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30] },
  });

  /** The process: V8 heap per space, GC pauses, event-loop delay and utilization (OpenTelemetry's Node runtime metrics). */
  private readonly runtime = new RuntimeNodeInstrumentation({ enabled: false });

  constructor(sources: MetricSources) {
    this.runtime.setMeterProvider(this.provider);
    this.runtime.enable();
    // The runtime instrumentation reads V8's heap, not the process's footprint outside it (buffers, librdkafka).
    this.meter
      .createObservableGauge('process.memory.usage', { description: 'Resident set size of the worker process', unit: 'By' })
      .addCallback((result) => result.observe(process.memoryUsage.rss()));
    const states = ['UNASSIGNED', 'RUNNING', 'PAUSED', 'STOPPED', 'FAILED', 'RESTARTING', 'FINISHED'];
    this.meter.createObservableGauge('coldstore_task_state', { description: '1 for the state each task is in, 0 for the others' }).addCallback((result) => {
      for (const sample of sources.taskStates()) {
        for (const state of states) {
          result.observe(sample.state === state ? 1 : 0, { connector: sample.connector, task: sample.task, state });
        }
      }
    });
    const leader = this.meter.createObservableGauge('coldstore_cluster_leader', { description: '1 while this worker leads the cluster' });
    const generation = this.meter.createObservableGauge('coldstore_cluster_assignment_generation', {
      description: 'Generation of the assignment this worker follows',
    });
    const assigned = this.meter.createObservableGauge('coldstore_cluster_assigned', {
      description: 'Connectors and tasks the current assignment gives this worker, by kind',
    });
    const fenced = this.meter.createObservableGauge('coldstore_cluster_fenced', {
      description: '1 while this worker, fenced after a pause or a cut-off, runs nothing until the leader assigns work again',
    });
    this.meter.addBatchObservableCallback(
      (result) => {
        const sample = sources.cluster?.();
        if (!sample) return;
        result.observe(leader, sample.leader ? 1 : 0);
        result.observe(generation, sample.generation);
        result.observe(assigned, sample.connectors, { kind: 'connector' });
        result.observe(assigned, sample.tasks, { kind: 'task' });
        result.observe(fenced, sample.fenced ? 1 : 0);
      },
      [leader, generation, assigned, fenced],
    );
    this.meter.addBatchObservableCallback(
      (result) => {
        for (const s of sources.sinkPositions()) {
          const attributes = { connector: s.connector, task: s.task, topic: s.topic, partition: s.partition };
          result.observe(this.sinkPosition, Number(s.offset), attributes);
          if (s.highWatermark !== undefined) result.observe(this.sinkLag, Math.max(0, Number(s.highWatermark - s.offset)), attributes);
        }
      },
      [this.sinkPosition, this.sinkLag],
    );
  }

  private readonly sinkPosition = this.meter.createObservableGauge('coldstore_sink_committed_offset', {
    description: 'Next offset to consume that is committed (durable) per sink partition',
  });
  private readonly sinkLag = this.meter.createObservableGauge('coldstore_sink_lag', {
    description: 'Records in a sink partition not yet committed (durable): end offset minus committed offset',
  });

  private readonly pluginInstruments = new Map<string, { kind: MetricSpec['kind']; instrument: Counter | Histogram | Gauge }>();

  /** Registers a plugin's declared metrics (once per name) and returns a recorder bound to one task. */
  taskMetrics(specs: readonly MetricSpec[], connector: string, task: number): TaskMetrics {
    for (const spec of specs) {
      if (this.pluginInstruments.has(spec.name)) continue;
      const options = { description: spec.description, ...(spec.unit ? { unit: spec.unit } : {}) };
      const instrument =
        spec.kind === 'counter'
          ? this.meter.createCounter(spec.name, options)
          : spec.kind === 'gauge'
            ? this.meter.createGauge(spec.name, options)
            : this.meter.createHistogram(spec.name, { ...options, ...(spec.buckets ? { advice: { explicitBucketBoundaries: spec.buckets } } : {}) });
      this.pluginInstruments.set(spec.name, { kind: spec.kind, instrument });
    }
    const declared = new Set(specs.map((s) => s.name));
    const find = (name: string, kind: MetricSpec['kind']) => {
      const found = this.pluginInstruments.get(name);
      if (!found || !declared.has(name) || found.kind !== kind) throw new Error(`Metric ${name} is not declared as a ${kind} by this plugin`);
      return found.instrument;
    };
    const attributes = (extra?: MetricAttributes): Attributes => ({ connector, task, ...extra });
    return {
      add: (name, value, extra) => (find(name, 'counter') as Counter).add(value, attributes(extra)),
      record: (name, value, extra) => (find(name, 'histogram') as Histogram).record(value, attributes(extra)),
      set: (name, value, extra) => (find(name, 'gauge') as Gauge).record(value, attributes(extra)),
    };
  }

  async prometheusText(): Promise<string> {
    const { resourceMetrics } = await this.exporter.collect();
    return this.serializer.serialize(resourceMetrics);
  }

  shutdown(): Promise<void> {
    this.runtime.disable();
    return this.provider.shutdown();
  }
}
