import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { Attributes, Counter, Histogram } from '@opentelemetry/api';

export type TaskStateSample = { connector: string; task: number; state: string };

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
  readonly committedOffsets: Counter = this.meter.createCounter('coldstore_committed_offsets', {
    description: 'Offsets advanced by commits (records made durable)',
  });
  readonly taskErrors: Counter = this.meter.createCounter('coldstore_task_errors', {
    description: 'Errors seen by tasks, by kind (retriable, fatal)',
  });
  readonly commitLatency: Histogram = this.meter.createHistogram('coldstore_commit_duration_seconds', {
    description: 'preCommit plus checkpoint write time',
    unit: 's',
    advice: { explicitBucketBoundaries: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30] },
  });

  constructor(taskStates: () => TaskStateSample[]) {
    const states = ['UNASSIGNED', 'RUNNING', 'PAUSED', 'STOPPED', 'FAILED', 'RESTARTING', 'FINISHED'];
    this.meter
      .createObservableGauge('coldstore_task_state', { description: '1 for the state each task is in, 0 for the others' })
      .addCallback((result) => {
        for (const sample of taskStates()) {
          for (const state of states) {
            result.observe(sample.state === state ? 1 : 0, { connector: sample.connector, task: sample.task, state });
          }
        }
      });
  }

  static taskAttributes(connector: string, task: number): Attributes {
    return { connector, task };
  }

  async prometheusText(): Promise<string> {
    const { resourceMetrics } = await this.exporter.collect();
    return this.serializer.serialize(resourceMetrics);
  }

  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}
