// sink.buffer.max.bytes (docs/configuration.md, operations.md): the worker's ledger of
// bytes its sink tasks hold in open buffers (runtime/worker/sink-buffer-ledger.ts).
import { describe, expect, it } from 'vitest';
import { SinkBufferLedger, type SinkBufferShare } from '../../runtime/worker/sink-buffer-ledger.js';

describe('SinkBufferLedger', () => {
  it('closes nothing and asks nobody while the tasks together fit', () => {
    const ledger = new SinkBufferLedger(1000);
    const a = ledger.join();
    const b = ledger.join();
    expect(a.report([300, 200])).toEqual({ close: 0 });
    expect(b.report([500])).toEqual({ close: 0 });
    expect(a.asked || b.asked).toBe(false);
    expect(ledger.totalBytes).toBe(1000);
  });

  it("closes the reporter's own largest at once when it holds the largest worker-wide, only as many as it takes", () => {
    const ledger = new SinkBufferLedger(600);
    const a = ledger.join();
    const b = ledger.join();
    b.report([200]);
    expect(a.report([100, 700, 50])).toEqual({ close: 1 });
    expect(b.asked).toBe(false);
    expect(ledger.totalBytes).toBe(350);
  });

  it("asks the idle task to close its big buffer rather than the busy one's small ones, and the busy one waits for it", async () => {
    const ledger = new SinkBufferLedger(1000);
    const busy = ledger.join();
    const idle = ledger.join();
    expect(idle.report([800]).close).toBe(0);
    const verdict = busy.report([100, 100, 100]);
    expect(verdict.close).toBe(0);
    expect(verdict.settled).toBeInstanceOf(Promise);
    expect(idle.asked).toBe(true);
    // The idle task's runner asks it between its puts; it reports again and closes what it is told.
    let woke = false;
    void verdict.settled!.then(() => (woke = true));
    expect(idle.report([800])).toEqual({ close: 1 });
    expect(idle.asked).toBe(false);
    await verdict.settled;
    expect(woke).toBe(true);
    expect(busy.report([100, 100, 100])).toEqual({ close: 0 });
    expect(ledger.totalBytes).toBe(300);
  });

  it('picks the largest worker-wide across several tasks, each task its largest first', () => {
    const ledger = new SinkBufferLedger(800);
    const a = ledger.join();
    const b = ledger.join();
    const c = ledger.join();
    a.report([50, 300]);
    b.report([400, 20]);
    // Total 770 + 600 = 1370: closing 400 (b) then 300 (a) brings it to 670; c's 100s stay open.
    const verdict = c.report([100, 100, 100, 100, 100, 100]);
    expect(verdict.close).toBe(0);
    expect([a.asked, b.asked, c.asked]).toEqual([true, true, false]);
    expect(b.report([400, 20]).close).toBe(1);
    expect(a.report([50, 300]).close).toBe(1);
    expect(ledger.totalBytes).toBe(670);
  });

  it('an asked task answering after the worker fell under budget closes nothing', () => {
    const ledger = new SinkBufferLedger(1000);
    const a = ledger.join();
    const b = ledger.join();
    b.report([900]);
    a.report([300]);
    expect(b.asked).toBe(true);
    a.report([]); // a's partitions were revoked: 900 fit
    expect(b.report([900])).toEqual({ close: 0 });
  });

  it('stops waiting for a task that does not answer: the reporter then closes its own, so the worker fits again', async () => {
    const ledger = new SinkBufferLedger(700, 20);
    const a = ledger.join();
    const silent = ledger.join();
    silent.report([500]);
    const first = a.report([300, 300]);
    expect(first.close).toBe(0);
    await first.settled;
    const second = a.report([300, 300]);
    expect(second).toEqual({ close: 2 });
    expect(ledger.totalBytes).toBeLessThanOrEqual(700);
  });

  it('a task that ends leaves with what it held, and whoever waited for it goes on', async () => {
    const ledger = new SinkBufferLedger(1000);
    const a = ledger.join();
    const b = ledger.join();
    b.report([900]);
    const verdict = a.report([300]);
    b.leave();
    await verdict.settled;
    expect(ledger.totalBytes).toBe(300);
    expect(a.report([300])).toEqual({ close: 0 });
  });

  it('two tasks waiting on each other do not deadlock: each is woken when it is asked', async () => {
    const ledger = new SinkBufferLedger(1000, 60_000);
    const a = ledger.join();
    const b = ledger.join();
    a.report([600]);
    const bWaits = b.report([300, 300]); // a's 600 is the largest: a is asked, b waits
    expect(a.asked).toBe(true);
    // a, in its own put, reports again: it is told to close its 600 and need not wait.
    expect(a.report([600, 200])).toEqual({ close: 1 });
    await bWaits.settled;
    expect(b.report([300, 300])).toEqual({ close: 0 });
    expect(ledger.totalBytes).toBe(800);
  });
});

describe('SinkBufferLedger with simulated tasks', () => {
  /** A task's open buffers by partition, kept within the budget the way BackupSink does. */
  class SimTask {
    readonly share: SinkBufferShare;
    readonly buffers = new Map<number, number>();
    readonly closed: number[] = [];
    busy: Promise<void> | undefined;
    constructor(ledger: SinkBufferLedger) {
      this.share = ledger.join();
    }
    async keepWithin(): Promise<void> {
      for (;;) {
        const open = [...this.buffers].filter(([, b]) => b > 0).sort((a, b) => b[1] - a[1]);
        const verdict = this.share.report(open.map(([, b]) => b));
        for (const [p, bytes] of open.slice(0, verdict.close)) {
          this.closed.push(bytes);
          this.buffers.set(p, 0);
        }
        if (!verdict.settled) return;
        await verdict.settled;
      }
    }
  }

  it('after every put the worker fits, only the largest worker-wide closed, and nothing while it fit', async () => {
    const MAX = 1000;
    const ledger = new SinkBufferLedger(MAX, 60_000);
    const tasks = [new SimTask(ledger), new SimTask(ledger), new SimTask(ledger)];
    let seed = 7;
    const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    let earlyCloses = 0;
    for (let step = 0; step < 400; step++) {
      const task = tasks[random(tasks.length)]!;
      const partition = random(4);
      task.buffers.set(partition, (task.buffers.get(partition) ?? 0) + 1 + random(250));
      const heldBefore = tasks.reduce((sum, t) => sum + [...t.buffers.values()].reduce((a, b) => a + b, 0), 0);
      const closedBefore = tasks.map((t) => t.closed.length);
      let done = false;
      const put = task.keepWithin().then(() => void (done = true));
      // The other tasks' runners: an asked task reports again between its puts.
      while (!done) {
        for (const other of tasks) {
          if (other !== task && other.share.asked && !other.busy) other.busy = other.keepWithin().finally(() => (other.busy = undefined));
        }
        await new Promise((r) => setImmediate(r));
      }
      await put;
      await Promise.all(tasks.map((t) => t.busy));
      const closedNow = tasks.flatMap((t, i) => t.closed.slice(closedBefore[i]));
      const stillOpen = tasks.flatMap((t) => [...t.buffers.values()]);
      expect(ledger.totalBytes, `step ${step}`).toBeLessThanOrEqual(MAX);
      if (heldBefore <= MAX) expect(closedNow, `step ${step}`).toEqual([]);
      if (closedNow.length > 0) expect(Math.min(...closedNow), `step ${step}`).toBeGreaterThanOrEqual(Math.max(...stillOpen));
      earlyCloses += closedNow.length;
    }
    expect(earlyCloses).toBeGreaterThan(10);
  });
});
