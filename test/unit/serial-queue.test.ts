import { describe, expect, it } from 'vitest';
import { SerialQueue } from '../../runtime/support/serial-queue.js';

describe('SerialQueue', () => {
  it("runs work one piece at a time in queue order; a failure is its caller's and the rest still runs", async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    const piece = (name: string, ms: number, fail = false) =>
      queue.run(async () => {
        log.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([piece('a', 20), piece('b', 1, true), piece('c', 5)]);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    await queue.idle();
  });
});
