/**
 * The test helper that runs real worker processes: a worker that dies before it is healthy
 * (a failpoint's SIGKILL during start) must end start() at once. It used to poll /health for
 * 60 s, because a process killed by a signal has a signalCode and no exitCode, and a
 * restore-crash run failed on it now and then.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { restCall } from '../helpers/rest.js';
import { bootstrap } from '../helpers/kafka.js';
import { s3Settings } from '../helpers/s3.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
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

  it('a worker runs on Node 24 LTS and starts an S3 client without any Node version warning', async () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24);
    const dir = tmpDir('worker-node');
    const worker = new WorkerProcess(dir, await freePort(), { 'bootstrap.servers': bootstrap() });
    const connectorFile = join(dir, 'backup.json');
    const label = uniqueName('nodever').toLowerCase();
    writeFileSync(
      connectorFile,
      JSON.stringify({ name: 'backup', config: { 'connector.class': 'BackupSink', topics: uniqueName('nodever'), 'backup.label': label, ...s3Settings() } }),
    );
    try {
      await worker.start([connectorFile]);
      // The S3 client is made when the task starts; the AWS SDK warns at that moment on an unsupported Node.
      await waitFor('the backup task running', async () => {
        const status = (await restCall(worker.url, 'GET', '/connectors/backup/status')).body as { tasks?: { state: string }[] };
        return status.tasks?.[0]?.state === 'RUNNING';
      });
      const log = readFileSync(worker.logPath, 'utf8');
      expect(log).toMatch(/"node":"v2[4-9]\./);
      expect(log).not.toMatch(/NodeVersionSupport|no longer support|end-of-life|DeprecationWarning/i);
    } finally {
      await worker.kill('SIGKILL');
    }
  });
});
