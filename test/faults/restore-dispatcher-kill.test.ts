/**
 * RestoreSource target=dispatcher killed (SIGKILL) mid-streams and mid-events and
 * resumed (docs/restore.md, "Restore into the Azul dispatcher"): afterwards the
 * dispatcher (a double over real HTTP) holds every stream and every bundle; each run
 * posted every stream before any event; and a kill repeats at most the bulks that were
 * in flight: per group, a run starts again at the bundle the killed run posted last or
 * right after it — never earlier (nothing done twice beyond that), never later (nothing skipped).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeAzulBackup, type AzulBackup, type BundlePlan } from '../helpers/azul-backup.js';
import { binaryEvent } from '../helpers/azul-vectors.js';
import { startDispatcherDouble, type DispatcherDouble } from '../helpers/dispatcher-double.js';
import { bootstrap } from '../helpers/kafka.js';
import { s3Client, s3Settings } from '../helpers/s3.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { freePort, WorkerProcess } from '../helpers/worker-process.js';
import { logTail, randomInt, sleep, startWorker, summary, waitFinished } from './fault-kit.js';

const GROUPS = ['alpha/binary/sourced', 'alpha/binary/augmented', 'beta/binary/sourced', 'beta/binary/extracted'];
const BUNDLES_PER_GROUP = 40;
const STREAMS = 40;
const IN_FLIGHT = 4;
const EVENT_KILLS = 4;

/** Bundles with events of their own (so each post names its bundle), over two days per group. */
function plans(): BundlePlan[] {
  const out: BundlePlan[] = [];
  for (const [g, group] of GROUPS.entries()) {
    const [source, model, action] = group.split('/') as [string, string, string];
    for (let i = 0; i < BUNDLES_PER_GROUP; i++) {
      const keys = [`g${g}-b${i}-e0`, `g${g}-b${i}-e1`];
      const events = keys.map((kafkaKey) => binaryEvent({ source, kafkaKey, timestampMicros: 1_717_200_000_000_000n + BigInt(i), streams: [] }));
      const day = i < BUNDLES_PER_GROUP / 2 ? '2024-06-01' : '2024-06-02';
      out.push({ source, model, action, time: `${day}T${String(i % 20).padStart(2, '0')}:00:00Z`, kafkaKey: keys[1]!, events });
    }
  }
  return out;
}

/** The bundle key of each accepted bulk, in arrival order (every event of these bundles is unique and accepted). */
function postedKeys(double: DispatcherDouble, backup: AzulBackup): string[] {
  const owner = new Map<string, string>();
  for (const b of backup.bundles) for (const e of b.events) owner.set(e.toString('hex'), b.key);
  let at = 0;
  return double.bulks.map((bulk) => {
    const key = owner.get(double.events[at]!.bytes.toString('hex'))!;
    at += bulk.count;
    return key;
  });
}

describe('RestoreSource target=dispatcher: kill -9 mid-restore and resume', () => {
  const workers: WorkerProcess[] = [];
  let double: DispatcherDouble | undefined;
  afterAll(async () => {
    for (const w of workers) await w.kill('SIGKILL');
    await double?.close();
  });

  it(`posts everything, streams first in every run, repeating at most the ${IN_FLIGHT} bulks in flight per kill`, async () => {
    const started = Date.now();
    const label = uniqueName('frdk').toLowerCase();
    const blobs = {
      'alpha/content': Array.from({ length: STREAMS / 2 }, (_, i) => Buffer.from(`alpha ${i} `.repeat(i + 1))),
      'beta/content': Array.from({ length: STREAMS / 2 }, (_, i) => Buffer.from(`beta ${i}`)),
    };
    const backup = await writeAzulBackup(s3Client(), label, plans(), blobs);
    double = await startDispatcherDouble();
    // Slow answers keep calls in flight when the kill comes.
    double.fail({ method: 'POST', delayMs: 40 });

    const dir = tmpDir('faults-restore-dispatcher');
    const worker = new WorkerProcess(dir, await freePort(), { 'bootstrap.servers': bootstrap(), 'offset.flush.interval.ms': 200 });
    workers.push(worker);
    const name = 'restore-dispatcher';
    const file = join(dir, `${name}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        name,
        config: {
          'connector.class': 'RestoreSource',
          target: 'dispatcher',
          'dispatcher.url': double.url,
          'dispatcher.max.in.flight': String(IN_FLIGHT),
          ...s3Settings(),
          'backup.label': label,
        },
      }),
    );

    /** Request and bulk counts at the end of each killed run. */
    const cuts: { requests: number; bulks: number }[] = [];
    const kills: string[] = [];
    for (let run = 0; run <= EVENT_KILLS; run++) {
      expect(await startWorker(worker, [file]), logTail(worker)).toBe('started');
      const before = double.streamPosts.length + double.bulks.length;
      // The first kill lands among the streams, the others among the events.
      const step = run === 0 ? randomInt(3, 10) : randomInt(4, 25);
      const deadline = Date.now() + 30_000;
      while (double.streamPosts.length + double.bulks.length - before < step || (run > 0 && double.bulks.length === 0)) {
        if (Date.now() > deadline) throw new Error(`no progress in run ${run}: ${logTail(worker)}`);
        await sleep(5);
      }
      await worker.kill('SIGKILL');
      // Requests the double received before the kill are answered after their delay; let them land.
      await sleep(200);
      kills.push(`${run === 0 ? 'streams' : 'events'}+${step}`);
      cuts.push({ requests: double.requests.length, bulks: double.bulks.length });
    }
    expect(cuts[0]!.bulks, 'the first kill came after the streams').toBe(0);
    expect(double.bulks.length, 'the restore finished before the last kill: make it larger').toBeLessThan(backup.bundles.length);
    double.clearFailures();
    expect(await startWorker(worker, [file]), logTail(worker)).toBe('started');
    const [task] = await waitFinished(worker, name, 120_000);
    expect(await worker.kill('SIGTERM')).toBe(0);

    // Every stream and every bundle, byte for byte.
    expect(new Set(double.streamPosts.map((p) => p.key))).toEqual(new Set(backup.streams.keys()));
    for (const [key, bytes] of backup.streams) expect(double.streams.get(key)?.equals(bytes), key).toBe(true);
    const posted = postedKeys(double, backup);
    expect(new Set(posted)).toEqual(new Set(backup.bundles.map((b) => b.key)));

    // In each run, no event before the run's last stream upload.
    const bounds = [0, ...cuts.map((c) => c.requests), double.requests.length];
    for (let run = 0; run + 1 < bounds.length; run++) {
      const requests = double.requests.slice(bounds[run], bounds[run + 1]);
      const lastStream = requests.findLastIndex((r) => r.method === 'POST' && r.path.startsWith('/api/v3/stream/'));
      const firstEvent = requests.findIndex((r) => r.path.startsWith('/api/v2/event'));
      if (lastStream >= 0 && firstEvent >= 0) expect(lastStream, `run ${run}`).toBeLessThan(firstEvent);
    }

    // Per group and run: key order; a run resumes at the last bundle posted before the kill (in flight, posted again) or the next one.
    const order = new Map<string, string[]>();
    for (const b of backup.bundles) order.set(b.group, [...(order.get(b.group) ?? []), b.key]);
    const bulkBounds = [0, ...cuts.map((c) => c.bulks), posted.length];
    const reached = new Map<string, number>();
    let repeats = 0;
    for (let run = 0; run + 1 < bulkBounds.length; run++) {
      const resumed = new Set<string>();
      for (const key of posted.slice(bulkBounds[run], bulkBounds[run + 1])) {
        const group = key.split('/').slice(0, 3).join('/');
        const index = order.get(group)!.indexOf(key);
        const last = reached.get(group) ?? -1;
        // Only a run's first post of a group may repeat the killed run's last one.
        if (index === last && !resumed.has(group)) repeats++;
        else expect(index, `${key} in run ${run}`).toBe(last + 1);
        resumed.add(group);
        reached.set(group, index);
      }
    }
    expect(repeats).toBeLessThanOrEqual(EVENT_KILLS * IN_FLIGHT);
    expect(posted.length - backup.bundles.length).toBe(repeats);

    const progress = task!.progress as { streams: { posted: number }; events: { bundles: number; events_ok: number } };
    expect(progress.streams.posted).toBe(STREAMS);
    expect(progress.events.bundles).toBe(backup.bundles.length);
    expect(progress.events.events_ok).toBe(backup.bundles.length * 2);
    const streamRepeats = double.streamPosts.length - backup.streams.size;
    summary('restore-dispatcher-kill', {
      runs: EVENT_KILLS + 2,
      kills: kills.join(' '),
      bundles: backup.bundles.length,
      'bundles posted again': repeats,
      streams: backup.streams.size,
      'streams posted again': streamRepeats,
      seconds: Math.round((Date.now() - started) / 1000),
    });
  });
});
