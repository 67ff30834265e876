import type { Logger } from '../telemetry/logger.js';

/**
 * What a worker that was fenced (the group went on without it) may run: nothing, until
 * the leader has written an assignment newer than the one it knew (that one is stale: its
 * tasks may already run elsewhere). A false alarm (the event loop blocked past the session
 * timeout while the Kafka client kept the membership alive) brings no new assignment, so
 * once the group would have moved on, a worker still in it with the same assignment, and
 * never dropped and taken back by the group meanwhile (`stillMember` says), takes its work back.
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

/** Why a worker was fenced: its Kafka client saw the membership lost, or the process was paused past the session timeout. */
export type FenceCause = 'membership-lost' | 'paused';

/**
 * Whether a fence turned out to be a false alarm, asked once the group would have moved on.
 * Only a pause can be one (the Kafka client may have kept the membership alive meanwhile); a
 * membership the client saw lost is gone, and one it lost or rejoined since (a network cut
 * healed) is a new member under the same client id, whose old assignment is stale even before
 * a newer one reaches it.
 */
export function falseAlarmCheck(cause: FenceCause, membership: { joins: number; drops: number }, stillMember: () => Promise<boolean>) {
  const { joins, drops } = membership;
  return async () => cause === 'paused' && membership.joins === joins && membership.drops === drops && (await stillMember());
}
