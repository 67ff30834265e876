// CachedCheck: the bound on /ready's round trips (runtime/support/cached-check.ts).
import { describe, expect, it } from 'vitest';
import { CachedCheck } from '../../runtime/support/cached-check.js';

describe('CachedCheck', () => {
  it('runs the work at most once per interval: callers in between and callers during a run share one result', async () => {
    let runs = 0;
    let release!: () => void;
    const check = new CachedCheck(
      () => {
        runs++;
        return new Promise<void>((resolve) => (release = resolve));
      },
      60_000,
      60_000,
    );
    const first = check.result();
    const during = check.result();
    release();
    expect(await first).toEqual({ ok: true });
    expect(await during).toEqual({ ok: true });
    expect(await check.result()).toEqual({ ok: true });
    expect(runs).toBe(1);
  });

  it('a failure is reported with its message, and cached like a success', async () => {
    let runs = 0;
    const check = new CachedCheck(
      async () => {
        runs++;
        throw new Error('bucket b: access denied (HTTP 403)');
      },
      60_000,
      60_000,
    );
    expect(await check.result()).toEqual({ ok: false, message: 'bucket b: access denied (HTTP 403)' });
    expect(await check.result()).toEqual({ ok: false, message: 'bucket b: access denied (HTTP 403)' });
    expect(runs).toBe(1);
  });

  it('work that does not answer in time fails the check and is aborted', async () => {
    let signal: AbortSignal | undefined;
    const check = new CachedCheck(
      (s) => {
        signal = s;
        return new Promise<void>(() => undefined);
      },
      60_000,
      50,
    );
    expect(await check.result()).toEqual({ ok: false, message: 'no answer within 50 ms' });
    expect(signal?.aborted).toBe(true);
  });

  it('runs again once the interval has passed (interval 0: every call)', async () => {
    let runs = 0;
    const check = new CachedCheck(
      async () => {
        runs++;
        if (runs === 2) throw new Error('down');
      },
      0,
      1_000,
    );
    expect(await check.result()).toEqual({ ok: true });
    expect(await check.result()).toEqual({ ok: false, message: 'down' });
    expect(await check.result()).toEqual({ ok: true });
    expect(runs).toBe(3);
  });
});
