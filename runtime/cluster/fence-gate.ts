import type { Logger } from '../telemetry/logger.js';

/**
 * What a worker that was fenced (the group went on without it) may run: nothing, until
 * the leader has written an assignment newer than the one it knew (that one is stale: its
 * tasks may already run elsewhere). A false alarm (the event loop blocked past the session
 * timeout while the Kafka client kept the membership alive) brings no new assignment, so
 * once the group would have moved on, a worker still in it with the same assignment
 * takes its work back.
 */
export class FenceGate {
  private minGeneration = 0;

  constructor(private readonly log: Logger) {}

  /** Whether an assignment of this generation may be followed. */
  admits(generation: number): boolean {
    return generation >= this.minGeneration;
  }

  close(current: () => number, stillMember: () => Promise<boolean>, graceMs: number, reopened: () => void): void {
    const generation = current();
    const min = generation + 1;
    this.minGeneration = min;
    setTimeout(() => {
      if (current() !== generation || this.minGeneration !== min) return;
      void stillMember()
        .then((member) => {
          if (!member || current() !== generation || this.minGeneration !== min) return;
          this.log.info({ generation }, 'still a member with the same assignment after the pause; taking its work back');
          this.minGeneration = 0;
          reopened();
        })
        .catch(() => undefined);
    }, graceMs).unref();
  }
}
