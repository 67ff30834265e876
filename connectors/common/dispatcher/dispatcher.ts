import type { StreamRef } from '../../layouts/azul/event-fields.js';
import type { AzulModel } from '../../layouts/azul/registry.js';

/** What the dispatcher answered to a bulk event post. */
export type BulkOutcome =
  | { kind: 'posted'; totalOk: number; totalFailures: number; failures: { event?: unknown; error: string }[] }
  /** 425: every event was filtered out or aged off on arrival; the bulk is done. */
  | { kind: 'filtered'; errorEnum: string; detail: string };

/**
 * The Azul dispatcher port (contract in test/fixtures/azul/DISPATCHER.md). Connectors
 * use only this; the HTTP client is one implementation, tests use a double.
 * Failures throw DispatcherError; `transient` says whether a retry may help.
 */
export interface Dispatcher {
  /** Human-readable location for messages. */
  readonly description: string;
  /** The blob's bytes; undefined when the dispatcher does not know it (404). */
  getStream(ref: StreamRef): Promise<Buffer | undefined>;
  /** HEAD: whether the dispatcher holds the blob. */
  hasStream(ref: StreamRef): Promise<boolean>;
  /** Uploads a blob with `expected-sha256` (the dispatcher refuses other bytes). */
  postStream(ref: StreamRef, body: Buffer): Promise<void>;
  /** Posts an Avro `Bulk<Model>Event` body with pause_plugins=true. */
  postEvents(model: AzulModel, bulk: Buffer): Promise<BulkOutcome>;
}

/** A failed dispatcher call: `transient` for network errors, timeouts, 429 and 5xx; otherwise retrying will not help. */
export class DispatcherError extends Error {
  constructor(
    message: string,
    readonly transient: boolean,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DispatcherError';
  }
}
