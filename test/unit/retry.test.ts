import { describe, expect, it } from 'vitest';
import { Backoff, retry } from '../../runtime/api/index.js';

const failing = (times: number, error = new Error('down')) => {
  let calls = 0;
  const work = async () => {
    calls++;
    if (calls <= times) throw error;
    return calls;
  };
  return { work, calls: () => calls };
};

describe('retry and Backoff (the one retry helper)', () => {
  it('Backoff doubles from its initial delay up to its cap; jitter scales each delay down by at most that share', () => {
    const exact = new Backoff(100, 500, 0);
    expect([1, 2, 3, 4, 5].map(() => exact.next())).toEqual([100, 200, 400, 500, 500]);
    exact.reset();
    expect(exact.next()).toBe(100);
    const jittered = new Backoff(1000, 1000, 0.25);
    for (let i = 0; i < 50; i++) expect(jittered.next()).toBeGreaterThanOrEqual(750);
  });

  it('retries until the work succeeds, telling onRetry each failure and delay', async () => {
    const { work, calls } = failing(3);
    const seen: [number, number][] = [];
    await expect(retry(work, { delays: new Backoff(1, 4, 0), retryable: () => true, onRetry: (_err, n, ms) => seen.push([n, ms]) })).resolves.toBe(4);
    expect(calls()).toBe(4);
    expect(seen).toEqual([
      [1, 1],
      [2, 2],
      [3, 4],
    ]);
  });

  it('rethrows a failure the policy does not retry, or what the policy throws instead', async () => {
    const down = new Error('down');
    await expect(retry(failing(5, down).work, { delays: new Backoff(1, 1, 0), retryable: (_err, n) => n < 2 })).rejects.toBe(down);
    await expect(
      retry(failing(5).work, {
        delays: new Backoff(1, 1, 0),
        retryable: () => {
          throw new Error('gave up, clearly');
        },
      }),
    ).rejects.toThrow('gave up, clearly');
  });

  it('givenUp rethrows the last failure before and after a wait; aborting the signal ends a wait at once', async () => {
    let given = false;
    const { work, calls } = failing(5);
    const pending = retry(work, { delays: new Backoff(50, 50, 0), retryable: () => true, givenUp: () => given });
    given = true;
    await expect(pending).rejects.toThrow('down');
    expect(calls()).toBe(1);

    const controller = new AbortController();
    const started = Date.now();
    const waiting = retry(failing(5).work, { delays: new Backoff(60_000, 60_000, 0), retryable: () => true, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('stopped')), 20);
    await expect(waiting).rejects.toThrow('stopped');
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
