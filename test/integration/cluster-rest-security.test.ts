/**
 * Cluster mode with REST authentication and TLS: a write sent to a worker that does not
 * lead is forwarded to the leader over HTTPS (trusting the cluster's certificate) with the
 * caller's credentials, which the leader checks again; without them it is refused before
 * anything is forwarded.
 */
import { selfSignedCertificate } from '../helpers/certs.js';
import { mkdirSync, readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterWorkerConfig } from '../helpers/cluster-config.js';
import { secureCall } from '../helpers/rest.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { freePort, WorkerProcess } from '../helpers/worker-process.js';

const TOKEN = 'cluster-token-7c1e';

describe('cluster mode: forwarded writes keep REST authentication and TLS', () => {
  const dir = tmpDir('cluster-rest-security');
  const workers: WorkerProcess[] = [];
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill('SIGKILL')));
  });

  it('a write through the non-leader reaches the leader over HTTPS with the caller credentials; without them it is refused', async () => {
    const { cert, key } = selfSignedCertificate(dir, 'worker', 'IP:127.0.0.1');
    const ca = readFileSync(cert);
    const group = uniqueName('clsec').toLowerCase();
    for (const id of ['s1', 's2']) {
      mkdirSync(join(dir, id));
      const config = clusterWorkerConfig(group, id, {
        'rest.auth.type': 'bearer',
        'rest.auth.token': TOKEN,
        'rest.tls.cert.file': cert,
        'rest.tls.key.file': key,
      });
      workers.push(new WorkerProcess(join(dir, id), await freePort(), config, ca));
    }
    await workers[0]!.start();
    await workers[1]!.start();
    const auth = { authorization: `Bearer ${TOKEN}` };
    const isLeader = async (w: WorkerProcess) => /^coldstore_cluster_leader(\{[^}]*\})? 1$/m.test(await rawMetrics(w.url, ca));
    const leader = await waitFor('a leader', async () => ((await isLeader(workers[0]!)) ? workers[0] : (await isLeader(workers[1]!)) ? workers[1] : undefined));
    const follower = workers.find((w) => w !== leader)!;

    const body = { name: 'files', config: { 'connector.class': 'FileStreamSink', topics: uniqueName('clsec-t'), file: join(dir, 'out.txt') } };
    // No credentials, or wrong ones: refused by the follower itself.
    expect((await secureCall(follower.url, 'POST', '/connectors', { ca, body })).status).toBe(401);
    expect((await secureCall(follower.url, 'POST', '/connectors', { ca, body, headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    // Only the leader can apply a write: a 201 from the follower went through the forward, over HTTPS.
    const created = await secureCall(follower.url, 'POST', '/connectors', { ca, body, headers: auth });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.headers['location']).toBe('/connectors/files');
    for (const w of workers) {
      const listed = await waitFor('the connector on every worker', async () => {
        const answer = await secureCall(w.url, 'GET', '/connectors', { ca, headers: auth });
        return answer.body?.length === 1 ? answer.body : undefined;
      });
      expect(listed).toEqual(['files']);
    }
    const deleted = await secureCall(follower.url, 'DELETE', '/connectors/files', { ca, headers: auth });
    expect(deleted.status).toBe(204);
  }, 120_000);
});

/** GET /metrics as text (Prometheus format, not JSON). */
function rawMetrics(url: string, ca: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const req = httpsRequest(new URL('/metrics', url), { ca, headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
    req.on('error', () => resolve(''));
    req.end();
  });
}
