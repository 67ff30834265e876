import { resolvePlaceholders } from '../config/placeholders.js';
import { configFingerprint } from '../config/fingerprint.js';
import { CachedCheck, type CheckResult } from '../support/cached-check.js';
import type { HerderApi } from './herder-api.js';

/** The answer of GET /ready: each check, and ready only when every one is ok. */
export interface ReadinessReport {
  status: 'ready' | 'not_ready';
  checks: {
    worker: CheckResult;
    kafka: CheckResult;
    /** The object store of each connector this worker runs whose plugin has a probe. */
    stores: CheckResult & { connectors: Record<string, CheckResult> };
    /** `<connector>/<task>` of this worker's FAILED tasks. */
    tasks: CheckResult & { failed: string[] };
  };
}

export interface ReadinessSources {
  herder: HerderApi;
  /** This worker's id as task statuses name it. */
  workerId(): string;
  started(): boolean;
  kafka: { result(): Promise<CheckResult> };
  intervalMs?: number;
  timeoutMs?: number;
}

/**
 * Readiness of this worker (GET /ready): started, Kafka answering, the object store of
 * each connector it runs (connector instance or a task) answering its plugin's probe, and
 * none of its tasks FAILED. Each round trip is cached (CachedCheck), so polling /ready
 * often costs Kafka and the stores one request every few seconds at most.
 */
export class Readiness {
  private readonly stores = new Map<string, { version: string; check: CachedCheck }>();

  constructor(private readonly sources: ReadinessSources) {}

  async report(): Promise<ReadinessReport> {
    const { herder } = this.sources;
    const me = this.sources.workerId();
    const failed: string[] = [];
    const local: string[] = [];
    for (const name of herder.names()) {
      const status = statusOf(herder, name);
      if (!status) continue;
      const mine = status.tasks.filter((t) => t.worker_id === me);
      for (const t of mine) if (t.state === 'FAILED') failed.push(`${name}/${t.id}`);
      if (status.connector.state !== 'STOPPED' && (status.connector.worker_id === me || mine.length > 0)) local.push(name);
    }
    const [kafka, stores] = await Promise.all([this.sources.kafka.result(), this.probeStores(local)]);
    const storesOk = Object.values(stores).every((c) => c.ok);
    const worker = this.sources.started() ? { ok: true } : { ok: false, message: 'the worker is starting' };
    const checks: ReadinessReport['checks'] = {
      worker,
      kafka,
      stores: { ok: storesOk, ...(storesOk ? {} : { message: 'an object store does not answer' }), connectors: stores },
      tasks: { ok: failed.length === 0, ...(failed.length ? { message: `FAILED tasks on this worker: ${failed.join(', ')}` } : {}), failed },
    };
    const ready = worker.ok && kafka.ok && storesOk && failed.length === 0;
    return { status: ready ? 'ready' : 'not_ready', checks };
  }

  private async probeStores(names: string[]): Promise<Record<string, CheckResult>> {
    for (const name of this.stores.keys()) if (!names.includes(name)) this.stores.delete(name);
    const results: Record<string, CheckResult> = {};
    await Promise.all(
      names.map(async (name) => {
        const check = this.storeCheck(name);
        if (check) results[name] = await check.result();
      }),
    );
    return results;
  }

  private storeCheck(name: string): CachedCheck | undefined {
    const { herder } = this.sources;
    // The stored config (info() masks secrets, which the store's credentials are).
    const config = herder.find(name)?.record.config;
    if (!config) return undefined;
    const plugin = herder.plugins.find(config['connector.class'] ?? '');
    const probe = plugin?.probe;
    if (!probe) return undefined;
    const version = configFingerprint(config);
    const known = this.stores.get(name);
    if (known?.version === version) return known.check;
    const resolved = resolvePlaceholders(config).config;
    const check = new CachedCheck((signal) => probe(resolved, signal), this.sources.intervalMs ?? 5_000, this.sources.timeoutMs ?? 3_000);
    this.stores.set(name, { version, check });
    return check;
  }
}

// A connector deleted while the report is being made is simply left out.
function statusOf(herder: HerderApi, name: string) {
  try {
    return herder.status(name);
  } catch {
    return undefined;
  }
}
