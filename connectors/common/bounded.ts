/**
 * Runs `work` on each item with at most `concurrency` running at once, pulling items
 * only as slots free up, so a long listing is never read far ahead. The first
 * failure stops taking new items; it is thrown once the running ones have settled.
 */
export async function forEachBounded<T>(items: AsyncIterable<T> | Iterable<T>, concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  for await (const item of items) {
    if (failure) break;
    const task: Promise<void> = work(item)
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => running.delete(task));
    running.add(task);
    if (running.size >= concurrency) await Promise.race(running);
  }
  await Promise.all(running);
  if (failure) throw failure.error;
}

/** Maps items with at most `concurrency` calls of `work` running at once; results keep the items' order. */
export async function mapBounded<T, R>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  await forEachBounded(items.keys(), concurrency, async (index) => {
    results[index] = await work(items[index]!, index);
  });
  return results;
}

/**
 * At most `limit` calls of run() at once across every caller, and, when a `budget`
 * is given, at most that much weight (e.g. bytes held in memory) between them; a
 * call heavier than the whole budget runs alone. The rest wait in order, so a heavy
 * call is not overtaken for ever by light ones.
 */
export class Limiter {
  private active = 0;
  private used = 0;
  private readonly waiting: { weight: number; start: () => void }[] = [];

  constructor(
    private readonly limit: number,
    private readonly budget = Number.POSITIVE_INFINITY,
  ) {}

  async run<T>(work: () => Promise<T>, weight = 0): Promise<T> {
    if (this.waiting.length > 0 || !this.fits(weight)) {
      // startWaiting() counts it in before starting it.
      await new Promise<void>((start) => this.waiting.push({ weight, start }));
    } else {
      this.active++;
      this.used += weight;
    }
    try {
      return await work();
    } finally {
      this.active--;
      this.used -= weight;
      this.startWaiting();
    }
  }

  private fits(weight: number): boolean {
    return this.active < this.limit && (this.active === 0 || this.used + weight <= this.budget);
  }

  private startWaiting(): void {
    while (this.waiting.length > 0 && this.fits(this.waiting[0]!.weight)) {
      const next = this.waiting.shift()!;
      this.active++;
      this.used += next.weight;
      next.start();
    }
  }
}
