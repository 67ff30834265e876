// Two BackupSink tasks writing one partition into one store (a zombie and the new
// owner, or two workers running the same connector): range claims keep every offset in
// exactly one bundle, whichever of them gets a range first.
import { readdirSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BackupSinkTask } from '../../connectors/backup-sink/task.js';
import type { PartitionOffsets, SinkRecord, SinkTaskContext, TaskStateStore } from '../../runtime/api/index.js';
import { fixtureRecord } from '../helpers/backup-fixture.js';
import { tmpDir } from '../helpers/tmp.js';
import { SinkBufferLedger } from '../../runtime/worker/sink-buffer-ledger.js';

const TOPIC = 'claims';
const tp = { topic: TOPIC, partition: 0 };

class MemoryState implements TaskStateStore {
  readonly values = new Map<string, unknown>();
  async get<T>(key: string): Promise<T | undefined> {
    return this.values.get(key) as T | undefined;
  }
  async put(key: string, value: unknown): Promise<void> {
    this.values.set(key, structuredClone(value));
  }
  async delete(key: string): Promise<void> {
    this.values.delete(key);
  }
}

interface Writer {
  task: BackupSinkTask;
  state: MemoryState;
  seeks: PartitionOffsets[];
  warnings: string[];
}

async function startWriter(root: string, state = new MemoryState()): Promise<Writer> {
  const task = new BackupSinkTask();
  const seeks: PartitionOffsets[] = [];
  const warnings: string[] = [];
  const context: SinkTaskContext = {
    connectorName: 'backup',
    taskId: 0,
    log: { debug: () => undefined, info: () => undefined, warn: (_fields, msg) => void warnings.push(msg), error: () => undefined },
    state: new MemoryState(),
    connectorState: state,
    metrics: { add: () => undefined, record: () => undefined, set: () => undefined },
    bufferBudget: new SinkBufferLedger(Infinity).join(),
    assignment: () => [tp],
    seek: (offsets) => void seeks.push(offsets),
    requestCommit: () => undefined,
    pause: () => undefined,
    resume: () => undefined,
  };
  await task.start(
    {
      'connector.class': 'BackupSink',
      topics: TOPIC,
      'storage.type': 'local',
      'local.root': root,
      'backup.label': 'zombie',
      'bundle.max.records': '1000',
      'bundle.max.age.ms': '600000',
    },
    context,
  );
  return { task, state, seeks, warnings };
}

const records = (from: number, to: number): SinkRecord[] => Array.from({ length: to - from + 1 }, (_, i) => fixtureRecord(TOPIC, 0, from + i));

/** Seals what is buffered, and returns the durable offset once the uploads in flight are done (or 10 s passed: a loaded machine is slow). */
async function flush(writer: Writer, expected: bigint): Promise<bigint | undefined> {
  await writer.task.preCommit(new Map(), 'flush');
  const deadline = Date.now() + 10_000;
  for (;;) {
    const durable = (await writer.task.preCommit(new Map(), 'interval')).get('claims/0');
    if (durable === expected || Date.now() > deadline) return durable;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits until another writer's claim was found (the claim is made in the background). */
async function untilFenced(writer: Writer): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!writer.warnings.includes('range claimed by another writer; following its cut') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

function bundleRanges(root: string): string[] {
  const dir = `${root}/coldstore-zombie-events/${TOPIC}/0`;
  return readdirSync(dir)
    .filter((f) => f.endsWith('.avro.gz'))
    .map((f) =>
      f
        .replace(/\.avro\.gz$/, '')
        .split('-')
        .map((n) => String(BigInt(n)))
        .join('-'),
    )
    .sort((a, b) => Number(a.split('-')[0]) - Number(b.split('-')[0]));
}

describe('range claims: two writers of one partition', () => {
  it('a zombie sealing records the new owner already wrote is refused and resumes where the store says', async () => {
    const root = tmpDir('claims-store');
    const zombie = await startWriter(root);
    const owner = await startWriter(root);
    await zombie.task.open([tp]);
    await zombie.task.put(records(0, 9));
    await owner.task.open([tp]);
    await owner.task.put(records(0, 29));
    expect(await flush(owner, 30n)).toBe(30n);

    // The zombie wakes up and closes its bundle 0-9: the claim at 0 says 0-29.
    await zombie.task.preCommit(new Map(), 'flush');
    await untilFenced(zombie);
    expect(zombie.warnings).toContain('range claimed by another writer; following its cut');
    const durable = await zombie.task.preCommit(new Map(), 'interval');
    expect(zombie.seeks).toEqual([new Map([['claims/0', 30n]])]);
    expect(durable.get('claims/0')).toBe(30n);
    expect(bundleRanges(root)).toEqual(['0-29']);
  });

  it("a new owner that planned before the zombie claimed follows the zombie's cut", async () => {
    const root = tmpDir('claims-store');
    const zombie = await startWriter(root);
    const owner = await startWriter(root);
    await zombie.task.open([tp]);
    await owner.task.open([tp]);
    await zombie.task.put(records(0, 9));
    expect(await flush(zombie, 10n)).toBe(10n);

    await owner.task.put(records(0, 29));
    await owner.task.preCommit(new Map(), 'flush');
    await untilFenced(owner);
    await owner.task.preCommit(new Map(), 'interval');
    expect(owner.seeks).toEqual([new Map([['claims/0', 10n]])]);
    // The runtime now reads again from 10.
    await owner.task.put(records(10, 29));
    expect(await flush(owner, 30n)).toBe(30n);
    expect(bundleRanges(root)).toEqual(['0-9', '10-29']);
  });

  it('two writers whose first records differ agree on one first range', async () => {
    const root = tmpDir('claims-store');
    const early = await startWriter(root);
    const late = await startWriter(root);
    await early.task.open([tp]);
    await late.task.open([tp]);
    await early.task.put(records(0, 9));
    expect(await flush(early, 10n)).toBe(10n);
    // The other writer's first record is 5 (say, retention moved the log start meanwhile).
    await late.task.put(records(5, 19));
    await late.task.preCommit(new Map(), 'flush');
    await untilFenced(late);
    await late.task.preCommit(new Map(), 'interval');
    expect(late.warnings).toContain('range claimed by another writer; following its cut');
    expect(late.seeks).toEqual([new Map([['claims/0', 10n]])]);
    await late.task.put(records(10, 19));
    expect(await flush(late, 20n)).toBe(20n);
    expect(bundleRanges(root)).toEqual(['0-9', '10-19']);
  });

  it('a range claimed but never written is rebuilt with its boundaries by the next owner', async () => {
    const root = tmpDir('claims-store');
    const zombie = await startWriter(root);
    await zombie.task.open([tp]);
    await zombie.task.put(records(0, 9));
    expect(await flush(zombie, 10n)).toBe(10n);
    await zombie.task.put(records(10, 24));
    expect(await flush(zombie, 25n)).toBe(25n);
    await zombie.task.close([tp], 'lost');
    // As if its upload of 10-24 had never landed: only the claim is left.
    rmSync(`${root}/coldstore-zombie-events/${TOPIC}/0/${'10'.padStart(20, '0')}-${'24'.padStart(20, '0')}.avro.gz`);

    const owner = await startWriter(root);
    const starts = await owner.task.open([{ ...tp, committed: 10n }]);
    expect(starts.get('claims/0')).toBeUndefined(); // reading starts at 10, the stored offset
    await owner.task.put(records(10, 40));
    expect(await flush(owner, 41n)).toBe(41n);
    expect(owner.warnings).toEqual([]);
    expect(bundleRanges(root)).toEqual(['0-9', '10-24', '25-40']);
  });

  it('a lost partition writes nothing of what it buffered', async () => {
    const root = tmpDir('claims-store');
    const zombie = await startWriter(root);
    await zombie.task.open([tp]);
    await zombie.task.put(records(0, 9));
    await zombie.task.close([tp], 'lost');
    await zombie.task.stop();
    expect(() => readdirSync(`${root}/coldstore-zombie-events`)).toThrow();
  });

  it('a stale stored offset, older or newer than the store, and a wrong anchor, resume where the store says', async () => {
    const root = tmpDir('claims-store');
    const writer = await startWriter(root);
    await writer.task.open([tp]);
    for (const [from, to] of [
      [0, 9],
      [10, 19],
      [20, 29],
    ] as const) {
      await writer.task.put(records(from, to));
      await flush(writer, BigInt(to + 1));
    }
    expect(writer.state.values.get('anchor/claims/0')).toBe('20');
    for (const committed of [10n, 15n, 30n, 95n]) {
      const again = await startWriter(root, writer.state);
      const starts = await again.task.open([{ ...tp, committed }]);
      expect(starts.get('claims/0') ?? committed, `stored offset ${committed}`).toBe(30n);
    }
    for (const anchor of ['10', '60']) {
      const state = new MemoryState();
      state.values.set('anchor/claims/0', anchor);
      const again = await startWriter(root, state);
      const starts = await again.task.open([{ ...tp, committed: 95n }]);
      expect(starts.get('claims/0'), `anchor ${anchor}`).toBe(30n);
      expect(again.warnings.some((w) => w.includes('listing the whole partition'))).toBe(anchor === '60');
    }
  });
});
