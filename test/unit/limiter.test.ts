import { describe, expect, it } from 'vitest';
import { Limiter } from '../../connectors/common/bounded.js';

/** A job that runs until released, recording when it started. */
function gate(started: string[], name: string): { work: () => Promise<void>; release: () => void } {
  let release = () => {};
  const done = new Promise<void>((r) => (release = r));
  const work = async (): Promise<void> => {
    started.push(name);
    await done;
  };
  return { work, release: () => release() };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('Limiter', () => {
  it('runs at most `limit` at once, in order', async () => {
    const limiter = new Limiter(2);
    const started: string[] = [];
    const jobs = ['a', 'b', 'c'].map((n) => gate(started, n));
    const runs = jobs.map((j) => limiter.run(j.work));
    await settle();
    expect(started).toEqual(['a', 'b']);
    jobs[1]!.release();
    await settle();
    expect(started).toEqual(['a', 'b', 'c']);
    jobs[0]!.release();
    jobs[2]!.release();
    await Promise.all(runs);
  });

  it('keeps the weight in flight within the budget; a job heavier than the budget runs alone', async () => {
    const limiter = new Limiter(10, 100);
    const started: string[] = [];
    const a = gate(started, 'a60');
    const b = gate(started, 'b50');
    const c = gate(started, 'c30');
    const huge = gate(started, 'huge500');
    const runs = [limiter.run(a.work, 60), limiter.run(b.work, 50), limiter.run(c.work, 30), limiter.run(huge.work, 500)];
    await settle();
    // b does not fit beside a, and c waits behind b rather than overtaking it.
    expect(started).toEqual(['a60']);
    a.release();
    await settle();
    expect(started).toEqual(['a60', 'b50', 'c30']);
    b.release();
    await settle();
    expect(started).toEqual(['a60', 'b50', 'c30']);
    c.release();
    await settle();
    expect(started).toEqual(['a60', 'b50', 'c30', 'huge500']);
    huge.release();
    await Promise.all(runs);
  });

  it('frees its slot and weight when a job fails', async () => {
    const limiter = new Limiter(1, 10);
    await expect(limiter.run(() => Promise.reject(new Error('boom')), 10)).rejects.toThrow('boom');
    await expect(limiter.run(() => Promise.resolve('next'), 10)).resolves.toBe('next');
  });
});
