/**
 * A backup written with node:zlib (a worker with COLDSTORE_NATIVE_GZIP=off) and one
 * written with the native addon (ISA-L at gzip.level 1) of the same topic: each
 * worker logs which compressor it uses, the bundles carry each writer's gzip header,
 * and both verify and restore exactly, each read by the other kind of reader
 * (the built CLI as child processes, real Kafka, the local store).
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../connectors/common/object-store/local-object-store.js';
import { readPartitions } from '../helpers/broker-records.js';
import { bootstrap, createTopic, produceLines } from '../helpers/kafka.js';
import { tmpDir, uniqueName } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { freePort, WorkerProcess } from '../helpers/worker-process.js';

const CLI = resolve(import.meta.dirname, '../../dist/app/cli/main.cjs');
const PARTITIONS = 2;
const PER_PARTITION = 3000;
const ZLIB_OFF = { COLDSTORE_NATIVE_GZIP: 'off' };
const ZLIB_OS_UNIX = 0x03;
const NATIVE_OS_UNKNOWN = 0xff;

interface Written {
  label: string;
  file: string;
  log: string;
}

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      done({ code: err ? Number((err as NodeJS.ErrnoException).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const values = (p: number) => Array.from({ length: PER_PARTITION }, (_, i) => `{"order":${i},"partition":${p},"status":"${['new', 'paid', 'sent'][i % 3]}"}`);

describe('backups written with node:zlib and with the native compressor restore and verify alike', () => {
  const dir = tmpDir('native-gzip-backup');
  const root = join(dir, 'objects');
  const topic = uniqueName('gzipc');
  const workers: WorkerProcess[] = [];
  const written = new Map<'zlib' | 'native', Written>();

  /** Backs the topic up with one worker process until every record is committed, then stops it. */
  async function backUp(kind: 'zlib' | 'native', level: number, env: Record<string, string>): Promise<Written> {
    const label = uniqueName(`gz${kind}`).toLowerCase();
    const name = `backup-${kind}`;
    const file = join(dir, `${name}.json`);
    const config = {
      'connector.class': 'BackupSink',
      topics: topic,
      'storage.type': 'local',
      'local.root': root,
      'backup.label': label,
      'bundle.max.records': '500',
      'bundle.max.age.ms': '300',
      'gzip.level': String(level),
    };
    writeFileSync(file, JSON.stringify({ name, config }));
    const worker = new WorkerProcess(tmpDir(`native-gzip-${kind}`), await freePort(), { 'bootstrap.servers': bootstrap(), 'offset.flush.interval.ms': 200 });
    workers.push(worker);
    await worker.start([file], env);
    await waitFor(
      `${kind} backup committed`,
      async () => {
        const res = await fetch(`${worker.url}/connectors/${name}/status`).catch(() => undefined);
        if (res?.status !== 200) return false;
        const body = (await res.json()) as { tasks: { progress?: { partitions?: { committed_offset: number | null }[] } }[] };
        const partitions = body.tasks.flatMap((t) => t.progress?.partitions ?? []);
        return partitions.length === PARTITIONS && partitions.every((p) => p.committed_offset === PER_PARTITION);
      },
      { timeoutMs: 90_000, intervalMs: 300 },
    );
    expect(await worker.terminate()).toBe(0);
    return { label, file, log: readFileSync(worker.logPath, 'utf8') };
  }

  async function bundleBodies(label: string): Promise<Buffer[]> {
    const store = new LocalObjectStore(root);
    const bucket = `coldstore-${label}-events`;
    const bodies: Buffer[] = [];
    for await (const object of store.list(bucket, '')) {
      if (!object.key.startsWith('~coldstore/')) bodies.push((await store.get(bucket, object.key))!.body);
    }
    return bodies;
  }

  beforeAll(async () => {
    await createTopic(topic, PARTITIONS);
    for (let p = 0; p < PARTITIONS; p++)
      produceLines(
        topic,
        p,
        values(p).map((v, i) => `k-${p}-${i}:${v}`),
      ); // kcat splits key:value at the first ':'
    written.set('zlib', await backUp('zlib', 6, ZLIB_OFF));
    written.set('native', await backUp('native', 1, {}));
  }, 240_000);

  afterAll(async () => {
    for (const worker of workers) await worker.kill('SIGKILL');
  });

  it('each worker says which compressor it uses, and its bundles carry that writer`s gzip header', async () => {
    expect(written.get('zlib')!.log).toMatch(/"compressor":"zlib".*gzip: native compressor unavailable \(COLDSTORE_NATIVE_GZIP=off\); using node:zlib/);
    expect(written.get('zlib')!.log).not.toContain('gzip: ISA-L');
    expect(written.get('native')!.log).toMatch(/"compressor":"native".*gzip: ISA-L [\d.]+ for levels 1-3, libdeflate [\d.]+ for 4-9 and gunzip/);
    expect(written.get('native')!.log).not.toContain('native compressor unavailable');
    for (const [kind, os] of [
      ['zlib', ZLIB_OS_UNIX],
      ['native', NATIVE_OS_UNKNOWN],
    ] as const) {
      const bodies = await bundleBodies(written.get(kind)!.label);
      expect(bodies.length, kind).toBeGreaterThanOrEqual(PARTITIONS * (PER_PARTITION / 500));
      for (const body of bodies) expect(body[9], `${kind}: gzip header OS byte`).toBe(os);
    }
  });

  for (const [kind, readerEnv, reader] of [
    ['zlib', {}, 'native'],
    ['native', ZLIB_OFF, 'zlib'],
  ] as const) {
    it(`the ${kind} backup verifies with the ${reader} reader`, async () => {
      const run = await cli(['verify', '--config', written.get(kind)!.file, '--json'], readerEnv);
      expect(run.code, run.stderr).toBe(0);
      const report = JSON.parse(run.stdout) as { ok: boolean };
      expect(report.ok, run.stdout).toBe(true);
      expect(run.stdout).toContain(`${PARTITIONS * PER_PARTITION}`);
      // The zlib reader says so on stderr, leaving the JSON report alone on stdout.
      expect(run.stderr.includes('"compressor":"zlib"')).toBe(reader === 'zlib');
    }, 60_000);

    it(`the ${kind} backup restores exactly with the ${reader} reader`, async () => {
      const target = `${topic}-${kind}`;
      const name = uniqueName(`restore-${kind}`);
      const workerFile = join(dir, `${name}-worker.json`);
      const restoreFile = join(dir, `${name}.json`);
      writeFileSync(workerFile, JSON.stringify({ 'bootstrap.servers': bootstrap(), 'data.dir': join(dir, name), 'offset.flush.interval.ms': 200 }));
      const config = {
        'connector.class': 'RestoreSource',
        'storage.type': 'local',
        'local.root': root,
        'backup.label': written.get(kind)!.label,
        topics: topic,
        'topic.rename': `${topic}:${target}`,
      };
      writeFileSync(restoreFile, JSON.stringify({ name, config }));
      const run = await cli(['restore', '--worker-config', workerFile, restoreFile], readerEnv);
      expect(run.code, run.stderr).toBe(0);
      const restored = await readPartitions(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: target, partition, count: PER_PARTITION })));
      for (let p = 0; p < PARTITIONS; p++) {
        const got = restored.filter((r) => r.partition === p).map((r) => r.value!.toString());
        expect(got, `${kind}, partition ${p}`).toEqual(values(p));
      }
    }, 120_000);
  }
});
