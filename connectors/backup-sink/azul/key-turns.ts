/**
 * Writes of event bundles queued by their Azul key, so ranges of one task that want the
 * same key store in the order their writes began. BackupSink begins the writes of a
 * partition in offset order (each after its range's claim, claims granted in order), so
 * which range's bulk gets the plain key, and which one the collision key, is decided by
 * offsets, not by which PUT arrives first; a rebuild after a crash decides the same.
 */
export class KeyTurns {
  private readonly last = new Map<string, Promise<void>>();

  /**
   * Queues a write for `key`; call before the write's first await. `ready` resolves
   * once every earlier write of the key stored its bundle, and rejects if one of them
   * failed before it did (the later range must not take the key in its place). Call
   * `done` after storing, `failed` if the write ends before.
   */
  take(key: string): { ready: Promise<void>; done: () => void; failed: (err: unknown) => void } {
    const before = this.last.get(key) ?? Promise.resolve();
    let settle!: { resolve: () => void; reject: (err: unknown) => void };
    const mine = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    // Nobody may be waiting: an unawaited rejection must not crash the process.
    mine.catch(() => {});
    const chained = before.then(() => mine);
    chained.catch(() => {});
    this.last.set(key, chained);
    const forget = () => {
      if (this.last.get(key) === chained) this.last.delete(key);
    };
    return {
      ready: before,
      done: () => {
        settle.resolve();
        void chained.finally(forget).catch(() => {});
      },
      failed: (err) => {
        settle.reject(err);
        void chained.finally(forget).catch(() => {});
      },
    };
  }
}
