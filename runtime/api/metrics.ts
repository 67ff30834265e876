/**
 * Metrics a plugin declares once (name, kind, meaning) and records through its
 * task context; the runtime registers them with OpenTelemetry and adds the
 * connector and task attributes. Names follow Prometheus conventions; counters
 * get a `_total` suffix on export.
 */
export interface MetricSpec {
  name: string;
  kind: 'counter' | 'histogram' | 'gauge';
  description: string;
  unit?: string;
  /** Histogram bucket boundaries. */
  buckets?: number[];
}

export type MetricAttributes = Record<string, string | number>;

export interface TaskMetrics {
  /** Adds to a declared counter. */
  add(name: string, value: number, attributes?: MetricAttributes): void;
  /** Records a value in a declared histogram. */
  record(name: string, value: number, attributes?: MetricAttributes): void;
  /** Sets a declared gauge to its current value. */
  set(name: string, value: number, attributes?: MetricAttributes): void;
}
