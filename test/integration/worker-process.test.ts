/**
 * The test helper that runs real worker processes: a worker that dies before it is healthy
 * (a failpoint's SIGKILL during start) must end start() at once. It used to poll /health for
 * 60 s, because a process killed by a signal has a signalCode and no exitCode, and a
 * restore-crash run failed on it now and then.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { freePort, WorkerProcess } from '../helpers/worker-process.js';

describe('WorkerProcess', () => {
  it('start() fails at once, naming the signal, when the process is killed before it is healthy', async () => {
    const dir = tmpDir('worker-process');
    mkdirSync(join(dir, 'w'));
    // Cluster mode against a port nothing listens on: the worker waits for Kafka and never becomes healthy.
    const worker = new WorkerProcess(join(dir, 'w'), await freePort(), { 'bootstrap.servers': '127.0.0.1:1', 'group.id': 'never', 'worker.id': 'w' });
    const starting = worker.start();
    starting.catch(() => undefined);
    await waitFor('the process', () => worker.pid !== undefined);
    process.kill(worker.pid!, 'SIGKILL');
    const killedAt = Date.now();
    await expect(starting).rejects.toThrow(/worker exited with SIGKILL/);
    // Far below the 60 s health deadline it used to wait out.
    expect(Date.now() - killedAt).toBeLessThan(20_000);
    expect(await worker.exited()).toBe('SIGKILL');
  });
});
