/** One write's place in a key's queue: whose it is, and how it ended (the error; undefined once stored). */
interface Turn {
  owner: string;
  outcome: Promise<unknown>;
}

/**
 * Writes of event bundles queued by their Azul key, so ranges of one task that want the
 * same key store in the order their writes began. BackupSink begins the writes of a
 * partition in offset order (each after its range's claim, claims granted in order), so
 * which range's bulk gets the plain key, and which one the collision key, is decided by
 * offsets, not by which PUT arrives first; a rebuild after a crash decides the same.
 */
export class KeyTurns {
  private readonly queues = new Map<string, Turn[]>();

  /**
   * Queues a write of `owner` (its topic-partition) for `key`; call before the write's
   * first await. `ready` resolves once every earlier write of the key has ended, and
   * rejects if an earlier one of the same owner failed before storing (a later range of
   * the partition must not take the key in its place; a failure of another partition's
   * write is that partition's business). Call `done` after storing, `failed` if the
   * write ends before.
   */
  take(key: string, owner: string): { ready: Promise<void>; done: () => void; failed: (err: unknown) => void } {
    const queue = this.queues.get(key) ?? [];
    const before = [...queue];
    let finish!: (err: unknown) => void;
    const turn: Turn = { owner, outcome: new Promise((resolve) => (finish = resolve)) };
    queue.push(turn);
    this.queues.set(key, queue);
    const release = (err: unknown) => {
      finish(err);
      const left = (this.queues.get(key) ?? []).filter((t) => t !== turn);
      if (left.length > 0) this.queues.set(key, left);
      else this.queues.delete(key);
    };
    const ready = (async () => {
      for (const earlier of before) {
        const err = await earlier.outcome;
        if (err !== undefined && earlier.owner === owner) throw err;
      }
    })();
    // Nobody may await it if the write fails first: no unhandled rejection.
    ready.catch(() => {});
    return { ready, done: () => release(undefined), failed: (err) => release(err ?? new Error(`the write of ${key} failed`)) };
  }
}
