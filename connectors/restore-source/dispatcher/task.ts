import { ConfigError, type PollResult, type RawConfig, type SourceTask, type SourceTaskContext } from '../../../runtime/api/index.js';
import { eventsLocation, streamsLocation, type Location } from '../../common/backup-location.js';
import { createDispatcher } from '../../common/dispatcher/http-dispatcher.js';
import { retryTransient } from '../../common/object-store/object-store.js';
import { createObjectStore } from '../../common/object-store/store-config.js';
import { BadObjects } from '../bad-object.js';
import { restoreSourceConfig, type RestoreSourceSettings } from '../config.js';
import { restoreMetrics } from '../metrics.js';
import { restoreEvents } from './event-phase.js';
import type { PhaseContext } from './phase-context.js';
import { ProgressStore, type DispatcherTaskProgress } from './progress.js';
import { restoreStreams } from './stream-phase.js';

type Phase = 'streams' | 'events' | 'done';

/**
 * RestoreSource with target=dispatcher: posts an azul-layout backup to the Azul
 * dispatcher, every stream blob first, then the event bundles. The connector runs one
 * such task (one coordinator keeps streams before events); the parallelism is inside it.
 * The work runs in the background: poll() answers at once, with no records, until it
 * is done. Progress (stream watermarks, each group's last bundle, counts) is kept in
 * the task state, so a restarted task resumes where the last one recorded; what was in
 * flight when a worker died is posted again (at least once: the dispatcher's API has
 * no idempotency key).
 */
export class DispatcherRestoreTask implements SourceTask {
  private settings!: RestoreSourceSettings;
  private context!: SourceTaskContext;
  private phases!: PhaseContext;
  private events!: Location;
  private streams!: Location;
  private progressStore!: ProgressStore;
  private phase: Phase = 'streams';
  private running: Promise<void> | undefined;
  private failure: { error: unknown } | undefined;
  private readonly stopping = new AbortController();

  async start(config: RawConfig, context: SourceTaskContext): Promise<void> {
    const { values, errors } = restoreSourceConfig.validate(config);
    const url = values['dispatcher.url'];
    // The declaration requires the URL with target=dispatcher.
    if (errors.length > 0 || url === undefined) throw new ConfigError(errors, 'RestoreSource config');
    this.settings = values;
    this.context = context;
    this.events = eventsLocation(values);
    this.streams = streamsLocation(values);
    const backup = `events ${this.events.bucket}/${this.events.prefix}, streams ${this.streams.bucket}/${this.streams.prefix}`;
    this.progressStore = await ProgressStore.open(context.state, backup, context.log);
    this.phase = values['restore.type'] === 'events' ? 'events' : 'streams';
    this.phases = {
      store: createObjectStore(values),
      dispatcher: createDispatcher({ ...values, 'dispatcher.url': url }),
      progress: this.progressStore,
      live: structuredClone(this.progressStore.saved.counts),
      badObjects: new BadObjects(values['on.bad.object'], context.metrics, context.log, this.progressStore.saved.skipped),
      sources: values['restore.sources'],
      maxInFlight: values['dispatcher.max.in.flight'],
      maxInFlightBytes: values['dispatcher.max.in.flight.bytes'],
      retry: {
        maxMs: values['dispatcher.retry.max.ms'],
        signal: this.stopping.signal,
        log: context.log,
        onRetry: () => context.metrics.add(restoreMetrics.dispatcherRetries, 1),
      },
      log: context.log,
      metrics: context.metrics,
    };
  }

  /** Starts the work in the background and reports how it went: nothing yet, done, or its error. */
  async poll(): Promise<PollResult> {
    if (this.failure) {
      const { error } = this.failure;
      this.failure = undefined;
      throw error;
    }
    if (this.phase === 'done') return { done: true, summary: this.progress() };
    this.running ??= this.restore().then(
      () => {
        this.running = undefined;
      },
      (error: unknown) => {
        this.running = undefined;
        if (!this.stopping.signal.aborted) this.failure = { error };
      },
    );
    return { records: [] };
  }

  /** One run: from the saved progress to the end; a store that is away ends it with a RetriableError, and the next poll runs again. */
  private async restore(): Promise<void> {
    const type = this.settings['restore.type'];
    // Counts of work done but not recorded (streams beyond a gap) start again with the work.
    this.phases.live = structuredClone(this.progressStore.saved.counts);
    await retryTransient('read the backup', async () => {
      if (type !== 'events') {
        this.phase = 'streams';
        await restoreStreams(this.phases, this.streams);
        this.context.log.info({ streams: this.phases.live.streams }, 'every stream is restored');
      }
      if (type !== 'streams') {
        this.phase = 'events';
        await restoreEvents(this.phases, this.events);
      }
      this.phase = 'done';
    });
  }

  progress(): DispatcherTaskProgress {
    // The status may ask while start() is still running.
    if (!this.phases) return { target: 'dispatcher', phase: 'starting' };
    const { live } = this.phases;
    const saved = this.progressStore.saved;
    return {
      target: 'dispatcher',
      phase: this.phase,
      restore_type: this.settings['restore.type'],
      streams: live.streams,
      events: live.events,
      bad_objects: live.streams.bad + live.events.bad,
      ...(this.phases.badObjects.reported.length > 0 ? { skipped: this.phases.badObjects.reported } : {}),
      ...(saved.failures.length > 0 ? { failures: saved.failures } : {}),
      stream_watermarks: saved.streams,
      groups: saved.groups,
    };
  }

  /** Stops taking work and waits for the calls in flight, so what they did is recorded before another task resumes. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
  }
}
